import { describe, expect, it } from 'vitest';
import {
  checkBufferDelta,
  isBufferDelta,
  isValidatedBufferDelta,
  looksLikeBufferDelta,
} from '../src/index.js';

describe('buffer delta shape (SPEC D6, B2)', () => {
  it('[D6] a well-formed delta is a delta to both guards', () => {
    const delta = { __buf: 1, len: 3, runs: [[0, [1]]] };
    expect(isBufferDelta(delta)).toBe(true);
    expect(isValidatedBufferDelta(delta)).toBe(true);
    expect(checkBufferDelta(delta, 10)).toBeNull();
  });

  it('[D6] isBufferDelta (client, unvalidated values) also needs a numeric len and an array of runs', () => {
    expect(isBufferDelta({ __buf: 1 })).toBe(false);
    expect(isBufferDelta({ __buf: 1, len: '3', runs: [] })).toBe(false);
    expect(isBufferDelta({ __buf: 1, len: 3, runs: {} })).toBe(false);
    expect(isBufferDelta([1, 2])).toBe(false);
    expect(isBufferDelta(null)).toBe(false);
  });

  it('[D6] isValidatedBufferDelta (server, after validation) reads only the marker of a plain object', () => {
    expect(isValidatedBufferDelta({ __buf: 1 })).toBe(true);
    expect(isValidatedBufferDelta({ __buf: 2, len: 1, runs: [] })).toBe(false);
    class Shaped {
      __buf = 1;
      len = 1;
      runs = [];
    }
    expect(isValidatedBufferDelta(new Shaped())).toBe(false);
    expect(isBufferDelta(new Shaped())).toBe(true);
  });

  it('[B2] any object carrying __buf must be checked as a delta', () => {
    expect(looksLikeBufferDelta({ __buf: 0 })).toBe(true);
    expect(looksLikeBufferDelta({ buf: 1 })).toBe(false);
    expect(checkBufferDelta({ __buf: 0, len: 1, runs: [] }, 10)).toBe('__buf must be 1');
    expect(checkBufferDelta({ __buf: 1, len: 11, runs: [] }, 10)).toMatch(/maximum buffer length 10/);
    expect(checkBufferDelta({ __buf: 1, len: 2, runs: [[1, [1, 2]]] }, 10)).toBe('run 0 extends past len 2');
    expect(checkBufferDelta({ __buf: 1, len: 2, runs: [], x: 1 }, 10)).toBe('unexpected property "x"');
  });
});
