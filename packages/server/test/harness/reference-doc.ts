/**
 * The one reference model of the document rules (SPEC D1-D7) and the helpers
 * around it: buffer deltas applied straight from SPEC D6, a client applying
 * reply patches, and plain-JSON copies for comparisons.
 */
import type { BufferDelta, Patch } from '../../src/index.js';

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

export function isDelta(value: unknown): value is BufferDelta {
  return typeof value === 'object' && value !== null && (value as { __buf?: unknown }).__buf === 1;
}

interface ModelEntry {
  tomb: boolean;
  fields: Map<string, unknown>;
  stamps: Map<string, number>;
  /** For a live key: the stamp of the deletion before this incarnation, 0 if none. */
  deletedAt: number;
}

export type LiveState = Record<string, Record<string, unknown>>;

/** The persisted shape: state and stamps with tombstones, and deletion stamps of live keys when any. */
interface ModelSnapshot {
  timestamp: number;
  state: LiveState;
  timestamps: Record<string, Record<string, number>>;
  deletions?: Record<string, number>;
}

/**
 * The one reference model of the document rules (SPEC D1-D7) over plain Maps,
 * written straight from the SPEC's words; every suite that checks the document
 * against a model uses this one.
 */
export class ReferenceDoc {
  readonly entries = new Map<string, ModelEntry>();
  clock = 0;

  /** Applies one frame (D1, D2); returns its stamp, or null when it held no key. */
  applyFrame(patches: readonly Patch[]): number | null {
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
            deletedAt: 0,
          });
          continue;
        }
        const live = old !== undefined && !old.tomb;
        // D5: only `_exists: true` creates at an absent or tombstoned key.
        if (!live && data._exists !== true) continue;
        // D3: a live key keeps its other fields; D5: a created one starts fresh.
        const entry: ModelEntry = live
          ? old
          : { tomb: false, fields: new Map(), stamps: new Map(), deletedAt: old?.stamps.get('_exists') ?? 0 };
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
    return stamp;
  }

  /** The live document: tombstoned keys absent. */
  live(): LiveState {
    const out: LiveState = {};
    for (const [key, entry] of this.entries) {
      if (!entry.tomb) out[key] = Object.fromEntries(entry.fields);
    }
    return plain(out);
  }

  /**
   * Every key's fields, a tombstone as `{ _exists: false }`: the document as
   * the soak oracle compares it. The values are the model's own (it never
   * changes a value in place: a buffer delta makes a new array), not copies.
   */
  components(): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const [key, entry] of this.entries) out.set(key, Object.fromEntries(entry.fields));
    return out;
  }

  /** Shaped like `toSnapshot(...)`: live only (D10), or with tombstones and deletion stamps (D9). */
  snapshot(includeTombstones: boolean): ModelSnapshot {
    const state: LiveState = {};
    const timestamps: Record<string, Record<string, number>> = {};
    const deletions: Record<string, number> = {};
    for (const [key, entry] of this.entries) {
      if (entry.tomb && !includeTombstones) continue;
      state[key] = Object.fromEntries(entry.fields);
      timestamps[key] = Object.fromEntries(entry.stamps);
      if (!entry.tomb && entry.deletedAt > 0) deletions[key] = entry.deletedAt;
    }
    const out: ModelSnapshot = { timestamp: this.clock, state, timestamps };
    if (includeTombstones && Object.keys(deletions).length > 0) out.deletions = deletions;
    return plain(out);
  }

  /** State and stamps with tombstones, shaped like `toSnapshot({ includeTombstones: true })`. */
  withTombstones(): ModelSnapshot {
    return this.snapshot(true);
  }

  /** Every (key, field) stamped after `t`, tombstones as `{ _exists: false }` (D7). */
  changesSince(t: number): Patch {
    const out: Patch = {};
    for (const [key, entry] of this.entries) {
      const fields: Record<string, unknown> = {};
      for (const [field, stamp] of entry.stamps) if (stamp > t) fields[field] = entry.fields.get(field);
      if (Object.keys(fields).length > 0) out[key] = entry.tomb ? { _exists: false } : fields;
    }
    return plain(out);
  }

  /**
   * The reconnect reply's document patches (D7): {@link changesSince}, and for
   * a key deleted after `t` (t > 0) and live again, a leading tombstone.
   */
  reconnectPatches(t: number): Patch[] {
    const changes = this.changesSince(t);
    const replaced: Patch = {};
    for (const [key, entry] of this.entries) {
      if (t > 0 && !entry.tomb && entry.deletedAt > t) replaced[key] = { _exists: false };
    }
    if (Object.keys(changes).length === 0) return [];
    return Object.keys(replaced).length > 0 ? [replaced, changes] : [changes];
  }
}

/**
 * A client applying one patch to its live state, in place (SPEC D2-D5 as a
 * client sees them): a tombstone deletes the key, anything else merges into
 * the component or starts it fresh. A client holds no tombstones and trusts
 * the server's stamps, so it has no D5 rule of its own; the values are not copied.
 */
export function clientApplyPatch(
  state: Record<string, Record<string, unknown>>,
  patch: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): void {
  for (const [key, data] of Object.entries(patch)) {
    if (data._exists === false) {
      delete state[key];
      continue;
    }
    state[key] = { ...(state[key] ?? {}), ...data };
  }
}

/** A client applying reply patches in order ({@link clientApplyPatch}) to a copy of `state`. */
export function clientApply(state: LiveState, patches: readonly Patch[]): LiveState {
  const out: LiveState = plain(state);
  for (const patch of patches) clientApplyPatch(out, plain(patch));
  return out;
}
