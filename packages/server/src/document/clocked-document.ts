import { isBufferDelta } from '../protocol/buffer-delta-shape.js';
import { isForbiddenName } from '../protocol/forbidden-names.js';
import type { ComponentData, FieldTimestamps, Patch } from '../protocol/messages.js';
import { isPlainObject } from '../protocol/plain-object.js';
import { applyBufferDelta } from './apply-buffer-delta.js';
import { ChangeList } from './change-list.js';
import { type ComponentEntry, createEntry, emptyRecord } from './component-entry.js';
import type { RoomSnapshot } from './room-snapshot.js';
import { SnapshotFormatError } from './snapshot-format-error.js';
import type { StoredComponent } from './stored-component.js';

/**
 * The durable, clocked document of one room (SPEC D1-D10). Pure: no IO, no timers.
 *
 * Patches must be validated (see `parseClientFrame`) before they are applied.
 *
 * @example
 * ```ts
 * const doc = new ClockedDocument();
 * doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1 } }]); // clock is now 1
 * doc.changesSince(0); // { 'e1/Pos': { _exists: true, x: 1 } }
 * ```
 */
export class ClockedDocument {
  private readonly entries = new Map<string, ComponentEntry>();
  private readonly changes = new ChangeList();
  private clockValue = 0;
  private liveCount = 0;

  /** The room clock: 0 for a new room, +1 for every frame that writes at least one key. */
  get clock(): number {
    return this.clockValue;
  }

  /** Number of live (not deleted) components. */
  get size(): number {
    return this.liveCount;
  }

  /** Number of keys including tombstones. */
  get keyCount(): number {
    return this.entries.size;
  }

  /**
   * Builds a document from a snapshot, tombstones included. The snapshot is
   * validated first; a malformed one throws {@link SnapshotFormatError}.
   */
  static fromSnapshot(snapshot: unknown): ClockedDocument {
    const valid = validateSnapshot(snapshot);
    const doc = new ClockedDocument();
    doc.clockValue = valid.timestamp;
    const loaded: ComponentEntry[] = [];
    for (const key of Object.keys(valid.state)) {
      const data = valid.state[key] as ComponentData;
      const stamps = valid.timestamps[key] ?? {};
      const entry = createEntry(key);
      if (data._exists === false) {
        entry.tombstone = true;
        entry.fields._exists = false;
        entry.stamps._exists = stampOf(stamps, '_exists', valid.timestamp);
      } else {
        for (const field of Object.keys(data)) {
          entry.fields[field] = data[field];
          entry.stamps[field] = stampOf(stamps, field, valid.timestamp);
        }
        doc.liveCount++;
      }
      entry.lastStamp = maxStamp(entry.stamps);
      doc.entries.set(key, entry);
      loaded.push(entry);
    }
    loaded.sort((a, b) => a.lastStamp - b.lastStamp);
    for (const entry of loaded) doc.changes.touch(entry);
    return doc;
  }

  /**
   * Applies the patches of one frame in order (SPEC D1-D6). When they hold at
   * least one key the clock advances by exactly one and every written field is
   * stamped with it.
   *
   * @param onKeyWritten called once per written key, for staging storage writes.
   * @returns the new clock, or `null` when there was nothing to write.
   */
  applyPatches(patches: readonly Patch[], onKeyWritten?: (key: string) => void): number | null {
    let stamp: number | null = null;
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        if (stamp === null) stamp = ++this.clockValue;
        this.applyComponent(key, patch[key] as ComponentData, stamp);
        onKeyWritten?.(key);
      }
    }
    return stamp;
  }

  /**
   * Every (key, field) stamped after `since`, valued from current state; a
   * tombstoned key appears as `{ _exists: false }` (SPEC D7). Costs in
   * proportion to the number of keys written after `since`.
   */
  changesSince(since: number): Patch {
    const diff = emptyRecord<ComponentData>();
    for (const entry of this.changes.writtenAfter(since)) {
      if (entry.tombstone) {
        diff[entry.key] = { _exists: false };
        continue;
      }
      const out: ComponentData = emptyRecord();
      const { fields, stamps } = entry;
      for (const field in stamps) {
        if ((stamps[field] as number) > since) out[field] = fields[field];
      }
      diff[entry.key] = out;
    }
    return diff;
  }

  /** The current state of one key: its fields (a copy) and stamps, or undefined when never written. */
  getEntry(key: string): { fields: ComponentData; stamps: FieldTimestamps; deleted: boolean } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    return { fields: { ...entry.fields }, stamps: { ...entry.stamps }, deleted: entry.tombstone };
  }

  /** Copies of the current state of `keys`, as a storage commit records them. */
  readComponents(keys: Iterable<string>): StoredComponent[] {
    const out: StoredComponent[] = [];
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry)
        out.push({ key, data: Object.assign({}, entry.fields), stamps: Object.assign({}, entry.stamps) });
    }
    return out;
  }

  /**
   * A snapshot of the document. Without tombstones it is the live document
   * (SPEC D10); with them it is what storage must keep (SPEC D9).
   * Components are copied; field values are shared and must not be mutated.
   */
  toSnapshot(options: { includeTombstones: boolean }): RoomSnapshot {
    const state: Record<string, ComponentData> = {};
    const timestamps: Record<string, FieldTimestamps> = {};
    for (const entry of this.entries.values()) {
      if (entry.tombstone && !options.includeTombstones) continue;
      state[entry.key] = Object.assign({}, entry.fields);
      timestamps[entry.key] = Object.assign({}, entry.stamps);
    }
    return { timestamp: this.clockValue, state, timestamps };
  }

  private applyComponent(key: string, data: ComponentData, stamp: number): void {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = createEntry(key);
      entry.tombstone = true; // "absent" behaves like a tombstone for D5
      this.entries.set(key, entry);
    }
    if (data._exists === false) {
      if (!entry.tombstone) this.liveCount--;
      entry.tombstone = true;
      entry.fields = emptyRecord();
      entry.fields._exists = false;
      entry.stamps = emptyRecord();
      entry.stamps._exists = stamp;
    } else {
      if (entry.tombstone) {
        // D5: a write to an absent or deleted key starts a fresh component.
        entry.tombstone = false;
        entry.fields = emptyRecord();
        entry.stamps = emptyRecord();
        this.liveCount++;
      }
      const { fields, stamps } = entry;
      for (const field of Object.keys(data)) {
        const value = data[field];
        fields[field] = isBufferDelta(value) ? applyBufferDelta(fields[field], value) : value;
        stamps[field] = stamp;
      }
    }
    entry.lastStamp = stamp;
    this.changes.touch(entry);
  }
}

function stampOf(stamps: FieldTimestamps, field: string, fallback: number): number {
  const stamp = stamps[field];
  // A field without a stamp is treated as written at the snapshot's clock, so
  // reconnecting clients are sent it rather than silently missing it.
  return typeof stamp === 'number' ? stamp : fallback;
}

function maxStamp(stamps: FieldTimestamps): number {
  let max = 0;
  for (const field in stamps) max = Math.max(max, stamps[field] as number);
  return max;
}

function isStamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks the shape of an untrusted snapshot (SPEC P3: never open a bad one as empty). */
function validateSnapshot(snapshot: unknown): RoomSnapshot {
  if (!isPlainObject(snapshot)) throw new SnapshotFormatError('not an object');
  const { timestamp, state, timestamps } = snapshot;
  if (!isStamp(timestamp)) throw new SnapshotFormatError('timestamp must be a non-negative integer');
  if (!isPlainObject(state)) throw new SnapshotFormatError('state must be an object');
  if (timestamps !== undefined && !isPlainObject(timestamps)) {
    throw new SnapshotFormatError('timestamps must be an object');
  }
  const stampMap = (timestamps ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(state)) {
    if (isForbiddenName(key)) throw new SnapshotFormatError(`forbidden key "${key}"`);
    const component = state[key];
    if (!isPlainObject(component)) throw new SnapshotFormatError(`state["${key}"] must be an object`);
    for (const field of Object.keys(component)) {
      if (isForbiddenName(field)) throw new SnapshotFormatError(`forbidden field "${field}" in "${key}"`);
    }
    const stamps = stampMap[key];
    if (stamps === undefined) continue;
    if (!isPlainObject(stamps)) throw new SnapshotFormatError(`timestamps["${key}"] must be an object`);
    for (const field of Object.keys(stamps)) {
      const stamp = stamps[field];
      if (!isStamp(stamp) || stamp > timestamp) {
        throw new SnapshotFormatError(
          `timestamps["${key}"].${field} must be an integer in [0, ${timestamp}]`,
        );
      }
    }
  }
  return {
    timestamp,
    state: state as RoomSnapshot['state'],
    timestamps: stampMap as RoomSnapshot['timestamps'],
  };
}
