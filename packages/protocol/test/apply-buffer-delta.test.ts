import { describe, expect, it } from 'vitest';
import { applyBufferDelta, type BufferDelta } from '../src/index.js';

// Moved from packages/server/test/document/buffer-delta.test.ts with the function:
// one implementation of SPEC D6 now serves the server and the client.

function delta(len: number, runs: Array<[number, number[]]> = []): BufferDelta {
  return { __buf: 1, len, runs };
}

describe('applyBufferDelta', () => {
  it('[D6] keeps the first len entries when the stored array is longer', () => {
    expect(applyBufferDelta([1, 2, 3, 4, 5], delta(2))).toEqual([1, 2]);
  });

  it('[D6] keeps everything and pads with zeros when the stored array is shorter', () => {
    expect(applyBufferDelta([1, 2, 3], delta(6))).toEqual([1, 2, 3, 0, 0, 0]);
  });

  it('[D6] keeps an array of the same length unchanged when there are no runs', () => {
    expect(applyBufferDelta([7, 8, 9], delta(3))).toEqual([7, 8, 9]);
  });

  it('[D6] len 0 gives an empty array', () => {
    expect(applyBufferDelta([1, 2, 3], delta(0, []))).toEqual([]);
  });

  it('[D6] writes each run from its offset on', () => {
    expect(
      applyBufferDelta(
        [1, 2, 3, 4, 5, 6],
        delta(6, [
          [1, [20, 30]],
          [5, [60]],
        ]),
      ),
    ).toEqual([1, 20, 30, 4, 5, 60]);
  });

  it('[D6] runs apply after truncation and padding', () => {
    expect(applyBufferDelta([1, 2, 3, 4], delta(3, [[2, [9]]]))).toEqual([1, 2, 9]);
    expect(applyBufferDelta([1], delta(4, [[3, [9]]]))).toEqual([1, 0, 0, 9]);
  });

  it('[D6] a later run overwrites an earlier one where they overlap', () => {
    expect(
      applyBufferDelta(
        [0, 0, 0, 0],
        delta(4, [
          [0, [1, 1, 1]],
          [1, [2, 2]],
        ]),
      ),
    ).toEqual([1, 2, 2, 0]);
  });

  it('[D6] positions of a run past len are skipped', () => {
    expect(applyBufferDelta([1, 2, 3, 4], delta(4, [[2, [7, 8, 9, 10]]]))).toEqual([1, 2, 7, 8]);
  });

  it('[D6] a run that starts at or beyond len writes nothing', () => {
    expect(
      applyBufferDelta(
        [1, 2],
        delta(2, [
          [2, [5]],
          [10, [6, 7]],
        ]),
      ),
    ).toEqual([1, 2]);
  });

  it('[D6] positions of a run before 0 are skipped', () => {
    expect(applyBufferDelta([1, 2, 3], delta(3, [[-2, [7, 8, 9, 10]]]))).toEqual([9, 10, 3]);
    expect(applyBufferDelta([1, 2, 3], delta(3, [[-5, [7]]]))).toEqual([1, 2, 3]);
  });

  for (const [name, base] of [
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'abc'],
    ['an array-like object', { 0: 5, 1: 6, length: 2 }],
  ] as Array<[string, unknown]>) {
    it(`[D6] a stored value that is ${name} counts as no array: zeros plus runs`, () => {
      expect(applyBufferDelta(base, delta(4, [[1, [5]]]))).toEqual([0, 5, 0, 0]);
    });
  }

  it('[D6] never mutates the stored array', () => {
    const base = [1, 2, 3];
    const out = applyBufferDelta(base, delta(5, [[0, [9]]]));
    expect(base).toEqual([1, 2, 3]);
    expect(out).not.toBe(base);
    expect(out).toEqual([9, 2, 3, 0, 0]);
  });
});
