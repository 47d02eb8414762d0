/**
 * The connect URL (SPEC C1): `url` with `roomId`, `clientId` and `token` set
 * as (URL-encoded) query parameters; other parameters of `url` are kept.
 *
 * @example
 * ```ts
 * connectUrl('wss://example.com/sync', 'room 1', 'c1', 't'); // 'wss://example.com/sync?roomId=room+1&clientId=c1&token=t'
 * ```
 */
export function connectUrl(url: string, roomId: string, clientId: string, token: string): string {
  const parsed = new URL(url, globalThis.location?.href);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  parsed.searchParams.set('roomId', roomId);
  parsed.searchParams.set('clientId', clientId);
  parsed.searchParams.set('token', token);
  return parsed.toString();
}
