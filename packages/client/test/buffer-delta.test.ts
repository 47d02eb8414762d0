import { applyBufferDelta, isBufferDelta } from 'canvas-store-protocol';
import { applyBufferDelta as serverApply } from 'canvas-store-server';
import { describe, expect, it } from 'vitest';
import { composeBufferDeltas, encodeBufferDelta } from '../src/buffer-delta.js';
import { seededRandom } from './helpers/clients.js';

describe('buffer deltas', () => {
  it('[D6] an appended stroke point is encoded as a delta that rebuilds the array on the server', () => {
    const before = Array.from({ length: 40 }, (_, i) => i);
    const after = [...before, 99, 98];
    const encoded = encodeBufferDelta(before, after);
    expect(encoded).toEqual({ __buf: 1, len: 42, runs: [[40, [99, 98]]] });
    expect(serverApply(before, encoded as never)).toEqual(after);
  });

  it('[D6] whole arrays are sent when a delta would not be smaller, and nothing when unchanged', () => {
    expect(encodeBufferDelta([1, 2], [3, 4])).toEqual([3, 4]);
    expect(encodeBufferDelta(undefined, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(encodeBufferDelta([1, 2, 3], [1, 2, 3])).toBeNull();
  });

  it('[D6] encode, apply and compose agree with the server on random arrays', () => {
    const random = seededRandom(11);
    const randomArray = () =>
      Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * 6));
    for (let round = 0; round < 2000; round++) {
      const a = randomArray();
      const b = randomArray();
      const c = randomArray();
      const ab = encodeBufferDelta(a, b);
      const bc = encodeBufferDelta(b, c);
      const viaServer = ab === null ? a : isBufferDelta(ab) ? serverApply(a, ab) : ab;
      expect(viaServer).toEqual(b);
      if (isBufferDelta(ab)) expect(applyBufferDelta(a, ab)).toEqual(b);
      if (isBufferDelta(ab) && isBufferDelta(bc)) {
        const composed = composeBufferDeltas(ab, bc);
        expect(serverApply(a, composed)).toEqual(c);
        for (const [offset, values] of composed.runs)
          expect(offset + values.length).toBeLessThanOrEqual(c.length);
      }
    }
  });
});
