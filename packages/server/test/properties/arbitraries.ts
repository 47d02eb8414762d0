import fc from 'fast-check';
import type { BufferDelta, BufferRun, ComponentData, Patch } from '../../src/index.js';

/** The small key space the document properties write to. */
export const KEYS = ['e0/S', 'e1/S', 'e2/S', 'e3/S', 'e4/S', 'e5/S'] as const;

export const smallInt = fc.integer({ min: -3, max: 3 });

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
export const liveComponentArb: fc.Arbitrary<ComponentData> = fc.record(
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

export const tombstoneArb: fc.Arbitrary<ComponentData> = fc.constant({ _exists: false });

/**
 * Any component write. `fc.record` with only optional keys practically never
 * yields `{}`, so the empty write (a live component with no fields, SPEC D5)
 * is generated explicitly.
 */
export const componentArb: fc.Arbitrary<ComponentData> = fc.oneof(
  { weight: 2, arbitrary: tombstoneArb },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 8, arbitrary: liveComponentArb },
);

export const patchArb: fc.Arbitrary<Patch> = fc.dictionary(fc.constantFrom(...KEYS), componentArb, {
  maxKeys: 3,
  noNullPrototype: true,
});

/** The patches of one frame; may hold no key at all. */
export const framePatchesArb: fc.Arbitrary<Patch[]> = fc.array(patchArb, { maxLength: 3 });

/** A history of frames applied to one document. */
export const historyArb: fc.Arbitrary<Patch[][]> = fc.array(framePatchesArb, { maxLength: 12 });

/** Deep copy through JSON, which also drops unusual prototypes before comparing. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Naive SPEC D6: keep `min(len, length)` stored entries, pad with 0, write runs, skip positions outside `[0, len)`. */
export function naiveApplyBufferDelta(base: unknown, delta: BufferDelta): number[] {
  const out: number[] = [];
  for (let i = 0; i < delta.len; i++) {
    out.push(Array.isArray(base) && i < base.length ? (base[i] as number) : 0);
  }
  for (const [offset, values] of delta.runs) {
    values.forEach((v, j) => {
      const pos = offset + j;
      if (pos >= 0 && pos < delta.len) out[pos] = v;
    });
  }
  return out;
}

function isDelta(value: unknown): value is BufferDelta {
  return typeof value === 'object' && value !== null && (value as { __buf?: unknown }).__buf === 1;
}

interface ModelEntry {
  tomb: boolean;
  fields: Map<string, unknown>;
  stamps: Map<string, number>;
}

export type LiveState = Record<string, Record<string, unknown>>;

/** A reference model of SPEC D1-D6 over plain Maps. */
export class ReferenceDoc {
  readonly entries = new Map<string, ModelEntry>();
  clock = 0;

  applyFrame(patches: readonly Patch[]): void {
    let stamp: number | null = null;
    for (const patch of patches) {
      for (const [key, data] of Object.entries(patch)) {
        stamp ??= ++this.clock;
        const old = this.entries.get(key);
        if (data._exists === false) {
          // D4: the tombstone replaces the component.
          this.entries.set(key, {
            tomb: true,
            fields: new Map([['_exists', false]]),
            stamps: new Map([['_exists', stamp]]),
          });
          continue;
        }
        // D5: absent or tombstoned starts fresh; D3: live keeps other fields.
        const entry: ModelEntry =
          old && !old.tomb ? old : { tomb: false, fields: new Map(), stamps: new Map() };
        for (const [field, value] of Object.entries(data)) {
          entry.fields.set(
            field,
            isDelta(value) ? naiveApplyBufferDelta(entry.fields.get(field), value) : value,
          );
          entry.stamps.set(field, stamp);
        }
        this.entries.set(key, entry);
      }
    }
  }

  /** The live document: tombstoned keys absent. */
  live(): LiveState {
    const out: LiveState = {};
    for (const [key, entry] of this.entries) {
      if (!entry.tomb) out[key] = Object.fromEntries(entry.fields);
    }
    return plain(out);
  }

  /** State and stamps with tombstones, shaped like `toSnapshot({ includeTombstones: true })`. */
  withTombstones(): {
    timestamp: number;
    state: LiveState;
    timestamps: Record<string, Record<string, number>>;
  } {
    const state: LiveState = {};
    const timestamps: Record<string, Record<string, number>> = {};
    for (const [key, entry] of this.entries) {
      state[key] = Object.fromEntries(entry.fields);
      timestamps[key] = Object.fromEntries(entry.stamps);
    }
    return plain({ timestamp: this.clock, state, timestamps });
  }
}

/** A client applying reply patches in order (SPEC D2-D5): a tombstone deletes, anything else merges or starts fresh. */
export function clientApply(state: LiveState, patches: readonly Patch[]): LiveState {
  const out: LiveState = plain(state);
  for (const patch of patches) {
    for (const [key, data] of Object.entries(patch)) {
      if (data._exists === false) {
        delete out[key];
        continue;
      }
      out[key] = { ...(out[key] ?? {}), ...plain(data) };
    }
  }
  return out;
}
