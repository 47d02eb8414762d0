import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyBufferDelta } from '../../src/index.js';
import { naiveApplyBufferDelta, plain } from '../harness/reference-doc.js';
import { scaled } from '../harness/reliability-harness.js';
import { bufferDeltaArb } from './arbitraries.js';

const baseArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(undefined, null, 0, 7, 'text', true, {}, { length: 3, 0: 5 }),
  },
);

describe('applyBufferDelta properties', () => {
  it('[D6] matches a naive implementation of the buffer delta rule', () => {
    fc.assert(
      fc.property(baseArb, bufferDeltaArb(50, 6, 20), (base, delta) => {
        const baseCopy = plain(base ?? null);
        const out = applyBufferDelta(base, delta);
        expect(out).toEqual(naiveApplyBufferDelta(base, delta));
        expect(out).toHaveLength(delta.len);
        // The stored array is not mutated: the result is a fresh whole array.
        if (Array.isArray(base)) expect(out).not.toBe(base);
        expect(plain(base ?? null)).toEqual(baseCopy);
      }),
      { numRuns: scaled(500, 10_000) },
    );
  });
});
