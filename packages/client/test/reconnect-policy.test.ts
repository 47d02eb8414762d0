import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff.js';
import { CloseCode, shouldReconnect } from '../src/index.js';

describe('backoff and close policy', () => {
  it('[client] backoff doubles from the minimum up to the maximum, with jitter shaving at most its fraction', () => {
    const noJitter = new Backoff({ minDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => noJitter.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    noJitter.reset();
    expect(noJitter.next()).toBe(100);
    const fullJitter = new Backoff({ minDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 }, () => 1);
    expect([1, 2, 3].map(() => fullJitter.next())).toEqual([50, 100, 200]);
    expect(() => new Backoff({ jitter: 2 })).toThrow(RangeError);
  });

  it('[client] authorization and refused-frame close codes are final; the rest are retried', () => {
    for (const code of [
      CloseCode.Unauthorized,
      CloseCode.Forbidden,
      CloseCode.FrameTooLarge,
      CloseCode.BadRequest,
    ]) {
      expect(shouldReconnect(code, true)).toBe(false);
    }
    expect(shouldReconnect(CloseCode.TokenExpired, false)).toBe(false);
    expect(shouldReconnect(CloseCode.TokenExpired, true)).toBe(true);
    for (const code of [
      1001,
      1006,
      1011,
      CloseCode.RateLimited,
      CloseCode.RoomFull,
      CloseCode.RoomUnavailable,
    ]) {
      expect(shouldReconnect(code, false)).toBe(true);
    }
  });
});
