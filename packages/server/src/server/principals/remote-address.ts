import { isIPv6 } from 'node:net';

/**
 * The principal a remote address stands for (SPEC B8): an IPv4 address as is
 * (also when IPv4-mapped, `::ffff:10.0.0.1`), an IPv6 address by its /64
 * prefix, since one host is usually given a whole /64 and could otherwise
 * take a fresh address per connection.
 *
 * @example
 * ```ts
 * addressPrincipal('2001:db8::1'); // '2001:db8:0:0::/64'
 * ```
 */
export function addressPrincipal(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
