/** fast-check arbitraries of patches, frames and histories for the property suites. */
import fc from 'fast-check';
import type { BufferDelta, BufferRun, ComponentData, Patch } from '../../src/index.js';

/** The small key space the document properties write to. */
export const KEYS = ['e0/S', 'e1/S', 'e2/S', 'e3/S', 'e4/S', 'e5/S'] as const;

const smallInt = fc.integer({ min: -3, max: 3 });

function runArb(len: number, maxValues = 6): fc.Arbitrary<BufferRun> {
  return fc
    .integer({ min: 0, max: len - 1 })
    .chain((offset) =>
      fc.tuple(
        fc.constant(offset),
        fc.array(fc.integer({ min: -9, max: 9 }), { maxLength: Math.min(maxValues, len - offset) }),
      ),
    );
}

/** A valid buffer delta (SPEC D6, B2): every run lies inside `[0, len)`. */
export function bufferDeltaArb(maxLen = 8, maxRuns = 3, maxValues = 6): fc.Arbitrary<BufferDelta> {
  return fc.integer({ min: 0, max: maxLen }).chain((len) =>
    fc.record({
      __buf: fc.constant(1 as const),
      len: fc.constant(len),
      runs: len === 0 ? fc.constant([]) : fc.array(runArb(len, maxValues), { maxLength: maxRuns }),
    }),
  );
}

/** A live component write: any subset of fields a, b, c, p (p an array or a buffer delta), maybe `_exists: true`. */
const liveComponentArb: fc.Arbitrary<ComponentData> = fc.record(
  {
    _exists: fc.constant(true),
    a: smallInt,
    b: smallInt,
    c: smallInt,
    p: fc.oneof(
      { weight: 3, arbitrary: bufferDeltaArb() },
      { weight: 1, arbitrary: fc.array(smallInt, { maxLength: 4 }) },
    ),
  },
  { requiredKeys: [], noNullPrototype: true },
);

const tombstoneArb: fc.Arbitrary<ComponentData> = fc.constant({ _exists: false });

/**
 * Any component write. `fc.record` with only optional keys practically never
 * yields `{}`, so the empty write (a live component with no fields, SPEC D5)
 * is generated explicitly.
 */
const componentArb: fc.Arbitrary<ComponentData> = fc.oneof(
  { weight: 2, arbitrary: tombstoneArb },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 8, arbitrary: liveComponentArb },
);

const patchArb: fc.Arbitrary<Patch> = fc.dictionary(fc.constantFrom(...KEYS), componentArb, {
  maxKeys: 3,
  noNullPrototype: true,
});

/** The patches of one frame; may hold no key at all. */
export const framePatchesArb: fc.Arbitrary<Patch[]> = fc.array(patchArb, { maxLength: 3 });

/** A history of frames applied to one document. */
export const historyArb: fc.Arbitrary<Patch[][]> = fc.array(framePatchesArb, { maxLength: 12 });
