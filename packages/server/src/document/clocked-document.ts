import {
  applyBufferDelta,
  type ComponentData,
  type FieldTimestamps,
  isForbiddenName,
  isPlainObject,
  isValidatedBufferDelta,
  type Patch,
} from 'canvas-store-protocol';
import { ChangeList } from './change-list.js';
import { type ComponentEntry, createEntry, emptyRecord } from './component-entry.js';
import type { RoomSnapshot } from './room-snapshot.js';
import { SnapshotFormatError } from './snapshot-format-error.js';
import type { StoredComponent } from './stored-component.js';
import { componentBytes, nameBytes, valueBytes } from './value-size.js';
import { projectWrite, type WriteProjection } from './write-projection.js';

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
  private bytesValue = 0;

  /** The room clock: 0 for a new room, +1 for every frame that writes at least one key. */
  get clock(): number {
    return this.clockValue;
  }

  /** Number of live (not deleted) components. */
  get size(): number {
    return this.liveCount;
  }

  /** Number of keys including tombstones: what the room's key quota counts (SPEC B7). */
  get keyCount(): number {
    return this.entries.size;
  }

  /** Stored size of every key, tombstones included: what the room's byte quota counts (SPEC B7). */
  get storedBytes(): number {
    return this.bytesValue;
  }

  /**
   * What applying `patches` would add to {@link keyCount} and {@link storedBytes},
   * without applying them: an upper bound, so a quota checked against it is never passed.
   */
  projectWrite(patches: readonly Patch[]): WriteProjection {
    return projectWrite(patches, (key) => this.entries.get(key));
  }

  /**
   * Builds a document from a snapshot, tombstones included. The snapshot is
   * validated while it is read; a malformed one throws {@link SnapshotFormatError}.
   */
  static fromSnapshot(snapshot: unknown): ClockedDocument {
    if (!isPlainObject(snapshot)) throw new SnapshotFormatError('not an object');
    const { timestamp, state, timestamps, deletions } = snapshot;
    if (!isPlainObject(state)) throw new SnapshotFormatError('state must be an object');
    if (timestamps !== undefined && !isPlainObject(timestamps)) {
      throw new SnapshotFormatError('timestamps must be an object');
    }
    // Optional (older saves and users' own storages do not have it, SPEC P1).
    if (deletions !== undefined && !isPlainObject(deletions)) {
      throw new SnapshotFormatError('deletions must be an object');
    }
    const stampMap = timestamps ?? {};
    const deletionMap = deletions ?? {};
    const doc = ClockedDocument.withClock(timestamp);
    const loaded: ComponentEntry[] = [];
    for (const key of Object.keys(state)) {
      const deletedAt = Object.hasOwn(deletionMap, key) ? deletionMap[key] : undefined;
      loaded.push(doc.loadEntry(key, state[key], stampMap[key], deletedAt));
    }
    return doc.indexLoaded(loaded);
  }

  /**
   * Builds a document from stored components (each the whole state of its
   * key, as commits store them) and the clock: the fast path for database
   * backends, with the same validation as {@link fromSnapshot}.
   */
  static fromComponents(timestamp: number, components: Iterable<StoredComponent>): ClockedDocument {
    const doc = ClockedDocument.withClock(timestamp);
    const loaded: ComponentEntry[] = [];
    for (const component of components) {
      if (doc.entries.has(component.key))
        throw new SnapshotFormatError(`key "${component.key}" appears twice`);
      loaded.push(doc.loadEntry(component.key, component.data, component.stamps, component.deletedAt));
    }
    return doc.indexLoaded(loaded);
  }

  private static withClock(timestamp: unknown): ClockedDocument {
    if (!isStamp(timestamp)) throw new SnapshotFormatError('timestamp must be a non-negative integer');
    const doc = new ClockedDocument();
    doc.clockValue = timestamp;
    return doc;
  }

  /** Validates and adds one stored component in a single pass over its fields and stamps. */
  private loadEntry(key: string, data: unknown, stamps: unknown, deletedAt: unknown): ComponentEntry {
    if (isForbiddenName(key)) throw new SnapshotFormatError(`forbidden key "${key}"`);
    if (!isPlainObject(data)) throw new SnapshotFormatError(`state["${key}"] must be an object`);
    if (stamps !== undefined && !isPlainObject(stamps)) {
      throw new SnapshotFormatError(`timestamps["${key}"] must be an object`);
    }
    const clock = this.clockValue;
    if (deletedAt !== undefined && (!isStamp(deletedAt) || deletedAt > clock)) {
      throw new SnapshotFormatError(`deletions["${key}"] must be an integer in [0, ${clock}]`);
    }
    const storedStamps = (stamps ?? {}) as Record<string, unknown>;
    for (const field in storedStamps) {
      const stamp = storedStamps[field];
      if (!isStamp(stamp) || stamp > clock) {
        throw new SnapshotFormatError(`timestamps["${key}"].${field} must be an integer in [0, ${clock}]`);
      }
    }
    const entry = createEntry(key);
    let lastStamp = 0;
    const record = (field: string, value: unknown) => {
      if (isForbiddenName(field)) throw new SnapshotFormatError(`forbidden field "${field}" in "${key}"`);
      // A field without a stamp is treated as written at the snapshot's clock, so
      // reconnecting clients are sent it rather than silently missing it.
      const stamp = (storedStamps[field] as number | undefined) ?? clock;
      entry.fields[field] = value;
      entry.stamps[field] = stamp;
      if (stamp > lastStamp) lastStamp = stamp;
    };
    let fieldCount = 0;
    if (data._exists === false) {
      entry.tombstone = true;
      record('_exists', false);
    } else {
      for (const field of Object.keys(data)) {
        record(field, data[field]);
        fieldCount++;
      }
      this.liveCount++;
      entry.deletedAt = deletedAt ?? 0;
    }
    // A live component written with no fields has no stamp to date it: treat
    // it as written at the snapshot's clock so reconnecting clients still
    // learn that it exists (and that it replaced anything older, SPEC D5/D9).
    entry.lastStamp = !entry.tombstone && fieldCount === 0 ? clock : lastStamp;
    entry.bytes = componentBytes(key, entry.fields);
    this.bytesValue += entry.bytes;
    this.entries.set(key, entry);
    return entry;
  }

  /** Links loaded entries into the recency list in stamp order. */
  private indexLoaded(loaded: ComponentEntry[]): ClockedDocument {
    loaded.sort((a, b) => a.lastStamp - b.lastStamp);
    for (const entry of loaded) this.changes.touch(entry);
    return this;
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
        this.applyMeasured(key, patch[key] as ComponentData, stamp);
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

  /**
   * The document part of a reconnect reply (SPEC D7) as patches to apply in
   * order (D2): every (key, field) stamped after `since`, as in
   * {@link changesSince}. A live key deleted after `since` and created again
   * is preceded by `{ _exists: false }` in a first patch, so a client holding
   * the old incarnation drops its old fields before taking the new one whole
   * (every field of the new incarnation is stamped after that deletion). No
   * other key gets a leading tombstone: the published client keeps tombstones
   * through its in-flight masking, so a needless one would delete a component
   * the client is itself writing. A client starting from 0 holds nothing and
   * gets one patch.
   *
   * @param createdByClient keys the reconnecting client's own frame wrote with
   *   `_exists: true`: it already holds that incarnation, and its in-flight
   *   masking would keep a leading tombstone while dropping its own fields.
   */
  reconnectPatches(since: number, createdByClient?: ReadonlySet<string>): Patch[] {
    const changes = this.changesSince(since);
    if (since === 0) return Object.keys(changes).length === 0 ? [] : [changes];
    let replaced: Patch | null = null;
    for (const entry of this.changes.writtenAfter(since)) {
      if (!entry.tombstone && entry.deletedAt > since && !createdByClient?.has(entry.key)) {
        replaced ??= emptyRecord();
        replaced[entry.key] = { _exists: false };
      }
    }
    if (Object.keys(changes).length === 0) return [];
    return replaced ? [replaced, changes] : [changes];
  }

  /** The current state of one key: its fields (a copy) and stamps, or undefined when never written. */
  getEntry(key: string): { fields: ComponentData; stamps: FieldTimestamps; deleted: boolean } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    return { fields: { ...entry.fields }, stamps: { ...entry.stamps }, deleted: entry.tombstone };
  }

  /** Every key the document holds, tombstones included. */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Copies of the current state of `keys`, as a storage commit records them. */
  readComponents(keys: Iterable<string>): StoredComponent[] {
    const out: StoredComponent[] = [];
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry) out.push(storedCopy(entry));
    }
    return out;
  }

  /** Every component (tombstones included) as copies, like `readComponents(keys())` without a lookup per key. */
  readAllComponents(): StoredComponent[] {
    const out: StoredComponent[] = [];
    for (const entry of this.entries.values()) out.push(storedCopy(entry));
    return out;
  }

  /**
   * A snapshot of the document. Without tombstones it is the live document
   * (SPEC D10); with them it is what storage must keep (SPEC D9), including
   * the deletion stamps of re-created keys (`deletions`, SPEC D7) when any.
   * Components are copied; field values are shared and must not be mutated.
   */
  toSnapshot(options: { includeTombstones: boolean }): RoomSnapshot {
    const state: Record<string, ComponentData> = {};
    const timestamps: Record<string, FieldTimestamps> = {};
    let deletions: Record<string, number> | undefined;
    for (const entry of this.entries.values()) {
      if (entry.tombstone && !options.includeTombstones) continue;
      state[entry.key] = Object.assign({}, entry.fields);
      timestamps[entry.key] = Object.assign({}, entry.stamps);
      if (options.includeTombstones && !entry.tombstone && entry.deletedAt > 0) {
        deletions ??= {};
        deletions[entry.key] = entry.deletedAt;
      }
    }
    const snapshot: RoomSnapshot = { timestamp: this.clockValue, state, timestamps };
    // Only when there is something to say, so snapshots of rooms that never
    // re-created a key keep the seed's exact shape.
    if (deletions) snapshot.deletions = deletions;
    return snapshot;
  }

  /**
   * Applies one component and keeps its byte count (SPEC B7) exact: when the
   * write kept the entry's fields, only the written fields are re-measured;
   * when it replaced them (a deletion or a fresh component) the new, small
   * field set is measured whole.
   */
  private applyMeasured(key: string, data: ComponentData, stamp: number): void {
    const before = this.entries.get(key);
    const oldBytes = before?.bytes ?? 0;
    const oldFields = before?.fields;
    let oldWritten = 0;
    if (before && !before.tombstone) {
      for (const field in data) {
        if (field in before.fields) oldWritten += nameBytes(field) + valueBytes(before.fields[field]);
      }
    }
    this.applyComponent(key, data, stamp);
    const after = this.entries.get(key);
    if (!after) return;
    if (after.fields === oldFields && !after.tombstone) {
      let newWritten = 0;
      for (const field in data) {
        if (field in after.fields) newWritten += nameBytes(field) + valueBytes(after.fields[field]);
      }
      after.bytes = oldBytes - oldWritten + newWritten;
    } else {
      after.bytes = componentBytes(key, after.fields);
    }
    this.bytesValue += after.bytes - oldBytes;
  }

  private applyComponent(key: string, data: ComponentData, stamp: number): void {
    let entry = this.entries.get(key);
    // D5: only `_exists: true` creates at an absent or tombstoned key; any
    // other write there is an edit that raced a deletion, and it loses.
    if (data._exists !== true && data._exists !== false && (!entry || entry.tombstone)) return;
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
      entry.deletedAt = 0;
    } else {
      if (entry.tombstone) {
        // D5: `_exists: true` at an absent or deleted key starts a fresh component.
        // D7: remember when the old incarnation was deleted (0 for a key never seen).
        entry.deletedAt = entry.stamps._exists ?? 0;
        entry.tombstone = false;
        entry.fields = emptyRecord();
        entry.stamps = emptyRecord();
        this.liveCount++;
      }
      const written = Object.keys(data);
      // A write of no fields to a live key stamps nothing: the key has not changed.
      if (written.length === 0) return;
      const { fields, stamps } = entry;
      for (const field of written) {
        const value = data[field];
        fields[field] = isValidatedBufferDelta(value) ? applyBufferDelta(fields[field], value) : value;
        stamps[field] = stamp;
      }
    }
    entry.lastStamp = stamp;
    this.changes.touch(entry);
  }
}

function isStamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A stored component copied from an entry: the caller may change it without changing the document. */
function storedCopy(entry: ComponentEntry): StoredComponent {
  const component: StoredComponent = {
    key: entry.key,
    data: Object.assign({}, entry.fields),
    stamps: Object.assign({}, entry.stamps),
  };
  if (!entry.tombstone && entry.deletedAt > 0) component.deletedAt = entry.deletedAt;
  return component;
}
