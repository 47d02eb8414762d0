import { applyBufferDelta, type ComponentData, isBufferDelta, type Patch } from 'canvas-store-protocol';
import { deepEqual } from './deep-equal.js';
import type { PendingPatch } from './merge-patches.js';

/** One key of the confirmed document: its fields and the clock that last wrote each. */
interface Entry {
  fields: ComponentData;
  stamps: Record<string, number>;
  deleted: boolean;
}

/** One key as JSON-safe data (for IndexedDB). */
export type SerializedEntry = [
  key: string,
  fields: ComponentData,
  stamps: Record<string, number>,
  deleted: boolean,
];

/**
 * The client's mirror of the server document: what the server has confirmed,
 * with per-field clock stamps, at clock {@link clock}. It applies broadcasts
 * and acknowledged writes by the server's own rules (SPEC D1-D6) in the order
 * the server handled them, so it equals the server's state at that clock.
 * Tombstones are kept (as the server keeps them) so deletions can be re-sent
 * after a rollback (SPEC D8).
 */
export class ConfirmedState {
  private entries = new Map<string, Entry>();
  private clockValue = 0;

  /** @param onKeyChanged called for every key whose entry changed (for persistence). */
  constructor(private readonly onKeyChanged: (key: string) => void = () => {}) {}

  /** The server clock this state is at: the `lastTimestamp` of the next reconnect. */
  get clock(): number {
    return this.clockValue;
  }

  set clock(value: number) {
    this.clockValue = value;
  }

  /** The live fields of `key`, or `undefined` when absent or deleted. */
  get(key: string): ComponentData | undefined {
    const entry = this.entries.get(key);
    return entry && !entry.deleted ? entry.fields : undefined;
  }

  /** Every key held, tombstones included. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Field stamps of `key` (for tests and diagnostics). */
  stampsOf(key: string): Readonly<Record<string, number>> | undefined {
    return this.entries.get(key)?.stamps;
  }

  /**
   * Applies the patches of one server-handled frame, stamped `stamp`, exactly
   * as the server did (D2-D6). Returns the keys written.
   */
  applyPatches(patches: readonly Patch[], stamp: number): Set<string> {
    const touched = new Set<string>();
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        this.applyComponent(key, patch[key] as ComponentData, stamp);
        touched.add(key);
      }
    }
    return touched;
  }

  /**
   * Applies a reconnect reply of the server at clock `stamp`, patch by patch
   * in order (D2): tombstones delete, other values merge into a live
   * component or start a fresh one (D3-D5). Keys in `created` were written
   * with `_exists: true` by the reconnect frame itself: the server sends them
   * without a leading tombstone (D7), and their incarnation began after our
   * clock, so the reply holds all of it and replaces what we had. Returns the
   * keys written.
   */
  applyIncrementalReply(reply: readonly Patch[], stamp: number, created?: ReadonlySet<string>): Set<string> {
    const touched = new Set<string>();
    for (const patch of reply) {
      for (const key of Object.keys(patch)) {
        const incoming = patch[key] as ComponentData;
        if (incoming._exists === false) this.applyComponent(key, incoming, stamp);
        else if (created?.has(key) && !touched.has(key)) this.writeFresh(key, incoming, stamp, undefined);
        else this.writeFresh(key, incoming, stamp, this.entries.get(key));
        touched.add(key);
      }
    }
    this.clockValue = stamp;
    return touched;
  }

  /**
   * Replaces everything with a complete reply (every key the server has, as of
   * clock `stamp`: a reconnect with `lastTimestamp: 0`). Fields whose value did
   * not change keep their stamps; the others are stamped `stamp` (an upper
   * bound). Returns every key that may have changed.
   */
  replaceAll(reply: Patch, stamp: number): Set<string> {
    const touched = new Set<string>(this.entries.keys());
    const previous = this.entries;
    this.entries = new Map();
    for (const key of Object.keys(reply)) {
      touched.add(key);
      const incoming = reply[key] as ComponentData;
      const old = previous.get(key);
      if (incoming._exists === false) {
        const kept = old?.deleted ? old.stamps._exists : undefined;
        this.entries.set(key, { fields: {}, stamps: { _exists: keepStamp(kept, stamp) }, deleted: true });
        continue;
      }
      const entry: Entry = { fields: {}, stamps: {}, deleted: false };
      for (const field of Object.keys(incoming)) {
        const value = incoming[field];
        const same = old && !old.deleted && deepEqual(old.fields[field], value);
        entry.fields[field] = value;
        entry.stamps[field] = same ? keepStamp(old.stamps[field], stamp) : stamp;
      }
      this.entries.set(key, entry);
    }
    for (const key of touched) this.onKeyChanged(key);
    this.clockValue = stamp;
    return touched;
  }

  /**
   * Everything stamped after `since`, valued from this state (tombstones as
   * `{ _exists: false }`): what a rolled-back server lost (SPEC D8).
   */
  changesSince(since: number): PendingPatch {
    const out: PendingPatch = new Map();
    for (const [key, entry] of this.entries) {
      if (entry.deleted) {
        if ((entry.stamps._exists ?? 0) > since) out.set(key, { replace: false, data: { _exists: false } });
        continue;
      }
      const data: ComponentData = {};
      let any = false;
      for (const field of Object.keys(entry.fields)) {
        if ((entry.stamps[field] ?? 0) > since) {
          data[field] = entry.fields[field];
          any = true;
        }
      }
      if (any) out.set(key, { replace: false, data });
    }
    return out;
  }

  /** One key as JSON-safe data, or `undefined` when not held. */
  serializeEntry(key: string): SerializedEntry | undefined {
    const entry = this.entries.get(key);
    return entry && [key, entry.fields, entry.stamps, entry.deleted];
  }

  /** Loads entries saved by {@link serializeEntry}, at `clock`; malformed entries are skipped. */
  restore(entries: readonly unknown[], clock: number): void {
    this.entries = new Map();
    for (const item of entries) {
      if (!Array.isArray(item) || item.length !== 4) continue;
      const [key, fields, stamps, deleted] = item as [unknown, unknown, unknown, unknown];
      if (typeof key !== 'string' || !isObject(fields) || !isObject(stamps) || typeof deleted !== 'boolean') {
        continue;
      }
      this.entries.set(key, {
        fields: fields as ComponentData,
        stamps: stamps as Record<string, number>,
        deleted,
      });
    }
    this.clockValue = clock;
  }

  private applyComponent(key: string, data: ComponentData, stamp: number): void {
    let entry = this.entries.get(key);
    if (data._exists === false) {
      this.entries.set(key, { fields: {}, stamps: { _exists: stamp }, deleted: true });
      this.onKeyChanged(key);
      return;
    }
    if (!entry || entry.deleted) {
      // D5: only `_exists: true` starts a fresh component at an absent or deleted
      // key; any other write there lost a race with a deletion and changes nothing.
      if (data._exists !== true) return;
      entry = { fields: {}, stamps: {}, deleted: false };
    } else {
      entry = { fields: { ...entry.fields }, stamps: { ...entry.stamps }, deleted: false };
    }
    for (const field of Object.keys(data)) {
      const value = data[field];
      entry.fields[field] = isBufferDelta(value) ? applyBufferDelta(entry.fields[field], value) : value;
      entry.stamps[field] = stamp;
    }
    this.entries.set(key, entry);
    this.onKeyChanged(key);
  }

  /** Writes reply fields: over a live entry they merge; otherwise they are the whole component. */
  private writeFresh(key: string, incoming: ComponentData, stamp: number, entry: Entry | undefined): void {
    const live = entry && !entry.deleted;
    const next: Entry = live
      ? { fields: { ...entry.fields }, stamps: { ...entry.stamps }, deleted: false }
      : { fields: {}, stamps: {}, deleted: false };
    for (const field of Object.keys(incoming)) {
      const value = incoming[field];
      next.fields[field] = isBufferDelta(value) ? applyBufferDelta(next.fields[field], value) : value;
      next.stamps[field] = stamp;
    }
    this.entries.set(key, next);
    this.onKeyChanged(key);
  }
}

function keepStamp(kept: number | undefined, upperBound: number): number {
  return kept !== undefined && kept <= upperBound ? kept : upperBound;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
