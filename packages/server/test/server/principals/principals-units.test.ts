import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AdminThrottle } from '../../../src/server/http/admin-throttle.js';
import { originAllowed } from '../../../src/server/http/origin-policy.js';
import { PrincipalLedger } from '../../../src/server/principals/principal-ledger.js';
import { addressPrincipal } from '../../../src/server/principals/remote-address.js';

describe('[B8] PrincipalLedger', () => {
  it('[B8] refuses past the connection and distinct-room limits and forgets a principal that holds nothing', () => {
    const ledger = new PrincipalLedger({ maxConnections: 3, maxRooms: 2 });
    const a1 = ledger.admit('p', 'a');
    const b1 = ledger.admit('p', 'b');
    expect(typeof a1).toBe('function');
    expect(typeof b1).toBe('function');
    expect(ledger.admit('p', 'c')).toBe('rooms');
    const a2 = ledger.admit('p', 'a');
    expect(typeof a2).toBe('function');
    expect(ledger.admit('p', 'a')).toBe('connections');
    expect(ledger.holdingsOf('p')).toEqual({ connections: 3, rooms: 2 });
    // Another principal is not affected.
    expect(typeof ledger.admit('q', 'c')).toBe('function');
    if (typeof b1 !== 'function' || typeof a1 !== 'function' || typeof a2 !== 'function') throw new Error();
    b1();
    b1(); // idempotent
    expect(ledger.holdingsOf('p')).toEqual({ connections: 2, rooms: 1 });
    expect(typeof ledger.admit('p', 'c')).toBe('function');
    a1();
    a2();
    expect(ledger.holdingsOf('p')).toEqual({ connections: 1, rooms: 1 });
    expect(ledger.size).toBe(2);
  });
});

describe('[B8] AdminThrottle', () => {
  it('[B8] allows a burst of failures, then asks to wait until one is earned back, per address', () => {
    let now = 0;
    const throttle = new AdminThrottle(6, () => now);
    for (let i = 0; i < 6; i++) {
      expect(throttle.retryAfterSeconds('a')).toBe(0);
      throttle.failed('a');
    }
    expect(throttle.retryAfterSeconds('a')).toBe(10);
    expect(throttle.retryAfterSeconds('b')).toBe(0);
    now += 5_000;
    expect(throttle.retryAfterSeconds('a')).toBe(5);
    now += 5_000;
    expect(throttle.retryAfterSeconds('a')).toBe(0);
  });

  it('[B8] remembers a bounded number of addresses', () => {
    const throttle = new AdminThrottle(1, () => 0);
    for (let i = 0; i < 10_050; i++) throttle.failed(`10.0.${i >> 8}.${i & 255}`);
    // The oldest were forgotten (they may guess again), the latest are still throttled.
    expect(throttle.retryAfterSeconds('10.0.0.0')).toBe(0);
    expect(throttle.retryAfterSeconds(`10.0.${10_049 >> 8}.${10_049 & 255}`)).toBeGreaterThan(0);
  });
});

describe('[B8] remote address principals', () => {
  it('[B8] IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(addressPrincipal('10.1.2.3')).toBe('10.1.2.3');
    expect(addressPrincipal('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressPrincipal('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(addressPrincipal('2001:0db8:0000:0001:bbbb:cccc:dddd:eeee')).toBe('2001:db8:0:1::/64');
    expect(addressPrincipal('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressPrincipal('::1')).toBe('0:0:0:0::/64');
    expect(addressPrincipal(undefined)).toBe('unknown');
  });
});

describe('[B10] origin policy', () => {
  const req = (origin: string | undefined, host = '127.0.0.1:8080') =>
    ({ headers: { origin, host } }) as unknown as IncomingMessage;
  const dev = { auth: 'none' as const, allowedOrigins: [], allowAnyOrigin: false };

  it('[B10] development mode admits same-origin pages and clients without Origin only', () => {
    expect(originAllowed(req('http://127.0.0.1:8080'), dev)).toBe(true);
    expect(originAllowed(req('https://127.0.0.1:8080'), dev)).toBe(true);
    expect(originAllowed(req(undefined), dev)).toBe(true);
    expect(originAllowed(req('http://127.0.0.1:8081'), dev)).toBe(false);
    expect(originAllowed(req('https://evil.example'), dev)).toBe(false);
    expect(originAllowed(req('null'), dev)).toBe(false);
    const noHost = { headers: { origin: 'http://127.0.0.1:8080' } } as unknown as IncomingMessage;
    expect(originAllowed(noHost, dev)).toBe(false);
  });

  it('[B10] --allow-any-origin, JWT mode and an explicit list', () => {
    expect(originAllowed(req('https://evil.example'), { ...dev, allowAnyOrigin: true })).toBe(true);
    expect(originAllowed(req('https://evil.example'), { ...dev, auth: 'jwt' })).toBe(true);
    const listed = { ...dev, auth: 'jwt' as const, allowedOrigins: ['https://app.example'] };
    expect(originAllowed(req('https://app.example'), listed)).toBe(true);
    expect(originAllowed(req(undefined), listed)).toBe(false);
    expect(originAllowed(req('http://127.0.0.1:8080'), listed)).toBe(false);
  });
});
