import type { StoredComponent } from '../document/stored-component.js';
import {
  DEFAULT_HISTORY_RETENTION,
  type HistoryEntry,
  HistoryHorizonError,
  type HistoryPage,
  type HistoryRetention,
  type HistoryWrite,
} from './history.js';
import { historyWriteBytes } from './history-bytes.js';
import type { StoredRoom } from './storage.js';

/**
 * Validates history retention options (SPEC H3) and fills in the defaults.
 *
 * @throws RangeError for a negative or non-integer value.
 */
export function resolveHistoryRetention(options: Partial<HistoryRetention> | undefined): HistoryRetention {
  const retention = { ...DEFAULT_HISTORY_RETENTION, ...options };
  for (const name of ['maxAgeMs', 'maxEntries', 'maxBytes'] as const) {
    const value = retention[name];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`history ${name} must be a non-negative integer, got ${value}`);
    }
  }
  return retention;
}

/** False when the retention keeps nothing (`maxEntries` or `maxBytes` 0): history is off. */
export function retentionKeeps(retention: HistoryRetention): boolean {
  return retention.maxEntries > 0 && retention.maxBytes > 0;
}

/** The public part of a history write (what `listHistory` returns). */
function historyEntry(write: HistoryEntry): HistoryEntry {
  return { clock: write.clock, time: write.time, clientId: write.clientId, keys: [...write.keys] };
}

/**
 * Rebuilds the state at `clock` from a later state (`live`, at clock
 * `live.timestamp`) by undoing, newest first, every write after `clock`:
 * each touched key gets its previous state back, or is removed when it did
 * not exist. `writes` must hold every write in `(clock, live.timestamp]`.
 *
 * Costs one pass over `live.components` (no per-component map: only the
 * touched keys are indexed) plus one step per undone key. Restored
 * components are copied, so the caller may change the result without
 * changing the writes it came from; `live`'s own components are handed
 * back as they are.
 */
function undoWrites(live: StoredRoom, writesNewestFirst: Iterable<HistoryWrite>, clock: number): StoredRoom {
  // Each touched key ends with the state from before the OLDEST undone write
  // that touched it (null: it did not exist then); newest first, the last
  // assignment wins.
  const restored = new Map<string, StoredComponent | null>();
  for (const write of writesNewestFirst) {
    if (write.clock <= clock || write.clock > live.timestamp) continue;
    const previous = new Map<string, StoredComponent>();
    for (const component of write.previous) previous.set(component.key, component);
    for (const key of write.keys) restored.set(key, previous.get(key) ?? null);
  }
  return withRestored(live, restored, clock);
}

/**
 * The state at `clock`: `live` with each key of `restored` set to its state
 * then (null: it did not exist). One pass over `live.components`; the live
 * order is kept (a restored key takes its live place, keys that exist only in
 * the past come last) and restored components are copies.
 */
export function withRestored(
  live: StoredRoom,
  restored: Map<string, StoredComponent | null>,
  clock: number,
): StoredRoom {
  if (restored.size === 0) return { timestamp: clock, components: live.components };
  const pending = new Map(restored);
  const components: StoredComponent[] = [];
  for (const component of live.components) {
    const before = pending.get(component.key);
    if (before === undefined) components.push(component);
    else {
      if (before) components.push(copyComponent(before));
      pending.delete(component.key);
    }
  }
  for (const before of pending.values()) if (before) components.push(copyComponent(before));
  return { timestamp: clock, components };
}

/** A copy of a stored component a caller may change (field values are never mutated, so they are shared). */
function copyComponent(component: StoredComponent): StoredComponent {
  const copy: StoredComponent = {
    key: component.key,
    data: { ...component.data },
    stamps: { ...component.stamps },
  };
  if (component.deletedAt !== undefined) copy.deletedAt = component.deletedAt;
  return copy;
}

/**
 * The oldest readable clock (SPEC H3) from the oldest and newest kept
 * entries and the room clock. Entries are contiguous up to the room clock;
 * when the newest is older than the clock (history was off meanwhile), they
 * do not lead to the current state and only the current state is readable.
 */
export function horizonOf(oldest: number | null, newest: number | null, roomClock: number): number {
  if (oldest === null || newest === null || newest < roomClock) return roomClock;
  return oldest - 1;
}

/**
 * One room's history held in memory, oldest first, for the backends that do
 * not keep it in a database (memory, file). Retention by count, age and bytes.
 */
export class HistoryLog {
  /** Kept writes are `entries[head..]`, oldest first; the dropped prefix is cut off now and then. */
  private entries: HistoryWrite[] = [];
  /** `ends[i]`: bytes of every write up to `entries[i]` since `base`, so the kept total is one subtraction. */
  private ends: number[] = [];
  /** Bytes before `entries[0]` (of writes already cut off). */
  private base = 0;
  private head = 0;

  constructor(
    readonly retention: HistoryRetention,
    readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Bytes of the kept writes, measured by {@link historyWriteBytes}. */
  get bytes(): number {
    return this.size > 0 ? this.lastEnd() - this.startOf(this.head) : 0;
  }

  /** Every kept write, oldest first. */
  all(): HistoryWrite[] {
    return this.entries.slice(this.head);
  }

  /** Replaces the log (on load) with the writes up to the stored room's `clock`, then applies retention. */
  reset(writes: HistoryWrite[], clock: number): void {
    this.entries = [];
    this.ends = [];
    this.base = 0;
    this.head = 0;
    this.push(writes.filter((write) => write.clock <= clock).sort((a, b) => a.clock - b.clock));
    this.compact(clock);
  }

  /**
   * Appends writes (in clock order), skipping clocks already kept. With
   * `stamp`, each gets the log's current time: retention by age counts from
   * when the storage committed the write.
   */
  append(writes: readonly HistoryWrite[], stamp = false): void {
    const time = this.now();
    this.push(stamp ? writes.map((write) => ({ ...write, time })) : writes);
  }

  /** Removes writes from the end (a commit that failed). */
  dropAfter(clock: number): void {
    while (this.size > 0 && (this.newest() as number) > clock) {
      this.entries.pop();
      this.ends.pop();
    }
  }

  /**
   * Drops writes beyond the retention (count, then age, then bytes: the
   * newest writes whose total is at most `maxBytes` are kept; a single write
   * larger than that is not kept at all) and returns the new horizon.
   * Amortised O(1) per dropped write.
   */
  compact(currentClock: number): number {
    const { maxEntries, maxAgeMs, maxBytes, onDropped } = this.retention;
    const { entries } = this;
    const oldestTime = this.now() - maxAgeMs;
    const start = this.head;
    const byCount = Math.max(start, entries.length - maxEntries);
    let byAge = byCount;
    while (byAge < entries.length && (entries[byAge] as HistoryWrite).time < oldestTime) byAge++;
    let head = byAge;
    const last = this.lastEnd();
    while (head < entries.length && last - this.startOf(head) > maxBytes) head++;
    this.head = head;
    if (onDropped) {
      if (byCount > start) onDropped('count', byCount - start);
      if (byAge > byCount) onDropped('age', byAge - byCount);
      if (head > byAge) onDropped('bytes', head - byAge);
    }
    // Cut the dropped prefix off once it is as long as what is kept.
    if (this.head > 0 && this.head >= this.size) {
      this.base = this.startOf(this.head);
      this.entries = this.entries.slice(this.head);
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
    return this.horizon(currentClock);
  }

  /** Oldest clock whose state can be read (SPEC H3), for a room at `currentClock`. */
  horizon(currentClock: number): number {
    const oldest = this.size > 0 ? (this.entries[this.head] as HistoryWrite).clock : null;
    return horizonOf(oldest, this.newest(), currentClock);
  }

  /** One page of entries newest first, clock `< before`. */
  list(options: { before?: number; limit: number }): HistoryPage {
    const limit = checkLimit(options.limit);
    const before = options.before ?? Number.POSITIVE_INFINITY;
    const out: HistoryEntry[] = [];
    let i = this.entries.length - 1;
    while (i >= this.head && (this.entries[i] as HistoryWrite).clock >= before) i--;
    for (; i >= this.head && out.length < limit; i--) out.push(historyEntry(this.entries[i] as HistoryWrite));
    const last = out[out.length - 1];
    return { entries: out, nextBefore: i >= this.head && last ? last.clock : null };
  }

  /** The state at `clock`, rebuilt from `live`; throws {@link HistoryHorizonError} before the horizon. */
  readAt(live: StoredRoom, clock: number): StoredRoom {
    const horizon = this.horizon(live.timestamp);
    if (clock < horizon) throw new HistoryHorizonError(clock, horizon);
    const { entries, head } = this;
    const newestFirst = function* () {
      for (let i = entries.length - 1; i >= head && (entries[i] as HistoryWrite).clock > clock; i--) {
        yield entries[i] as HistoryWrite;
      }
    };
    return undoWrites(live, newestFirst(), clock);
  }

  private newest(): number | null {
    return this.size > 0 ? (this.entries[this.entries.length - 1] as HistoryWrite).clock : null;
  }

  /** Appends writes newer than the newest kept, with their cumulative sizes. */
  private push(writes: readonly HistoryWrite[]): void {
    let last = this.newest() ?? Number.NEGATIVE_INFINITY;
    let end = this.lastEnd();
    for (const write of writes) {
      if (write.clock <= last) continue;
      end += historyWriteBytes(write);
      this.entries.push(write);
      this.ends.push(end);
      last = write.clock;
    }
  }

  /** Cumulative bytes before `entries[index]`. */
  private startOf(index: number): number {
    return index > 0 ? (this.ends[index - 1] as number) : this.base;
  }

  /** Cumulative bytes up to the newest write (dropped ones included). */
  private lastEnd(): number {
    return this.ends.length > 0 ? (this.ends[this.ends.length - 1] as number) : this.base;
  }
}

/** Validates a page size: a positive integer. */
export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/** True when a stored component is a tombstone (a deleted key). */
export function isTombstone(component: StoredComponent): boolean {
  return component.data._exists === false;
}

/**
 * Tombstones whose deletion is at or before `horizon` (SPEC H3): no state
 * inside the retention needs them, so storage may drop them.
 */
export function isCompactableTombstone(component: StoredComponent, horizon: number): boolean {
  return (
    component.data._exists === false && (component.stamps._exists ?? Number.POSITIVE_INFINITY) <= horizon
  );
}
