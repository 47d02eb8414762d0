import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { StoredComponent } from '../document/stored-component.js';
import type { HistoryWrite } from './history.js';

export type { StoredComponent };

/**
 * Pluggable persistence of one room (SPEC P1). `load` returns the saved
 * snapshot or `null` for a room never saved; it must throw (never return
 * `null`) when the data exists but cannot be read, so the room is not opened
 * empty (SPEC P3). `save` receives snapshots that include tombstones.
 *
 * A storage with only `load`/`save` is saved whole, throttled by
 * `saveThrottleMs`, and acks do not wait for it. Implement
 * {@link IncrementalStorage} for acked writes that survive a crash.
 *
 * @example
 * ```ts
 * const storage: Storage = {
 *   async load() { return JSON.parse(await readFile('room.json', 'utf8')); },
 *   async save(snapshot) { await writeFile('room.json', JSON.stringify(snapshot)); },
 * };
 * ```
 */
export interface Storage {
  load(): Promise<RoomSnapshot | null>;
  save(snapshot: RoomSnapshot): Promise<void>;
}

/**
 * The writes of one event-loop iteration: the current state of every key
 * written since the previous batch, and the room clock once they applied.
 * Each component replaces whatever was stored for its key.
 */
export interface CommitBatch {
  timestamp: number;
  components: StoredComponent[];
  /**
   * The writes of the batch in clock order, for a storage that keeps history
   * (SPEC H1); absent when the room keeps none. Stored in the same commit.
   */
  writes?: HistoryWrite[];
}

/**
 * A storage that persists writes incrementally. The room commits one batch per
 * event-loop iteration and releases the acks and broadcasts of those writes
 * only after `commit` resolves (SPEC O4, P2): a resolved commit must survive a
 * crash of the process. Commits are issued one at a time, in order.
 *
 * @example
 * ```ts
 * const sqlite = new SqliteStorage({ path: './data/rooms.db' });
 * const room = new Room({ storage: sqlite.forRoom('my-room') });
 * ```
 */
export interface IncrementalStorage extends Storage {
  commit(batch: CommitBatch): Promise<void>;
  /**
   * Optional fast path for loading: the stored components and clock, without
   * building a {@link RoomSnapshot} first. `null` for a room never stored.
   */
  loadComponents?(): Promise<StoredRoom | null>;
  /**
   * Optional: true when the storage would like a whole snapshot through `save`
   * (for example to fold a journal). Asked after writes and when the room closes.
   */
  wantsSnapshot?(reason: SnapshotReason): boolean;
  /**
   * Optional: told when the room closes after every commit is done, just before
   * it asks `wantsSnapshot('close')` and calls `close`. A journaling storage may
   * then fold its journal when it closes.
   */
  closingAfterFlush?(): void;
  /** Optional: releases the room's resources (files, handles) after the room closed. */
  close?(): Promise<void>;
}

/** A stored room as components: each the whole state of its key, tombstones included. */
export interface StoredRoom {
  timestamp: number;
  components: StoredComponent[];
}

/** When a room asks {@link IncrementalStorage.wantsSnapshot}. */
export type SnapshotReason = 'write' | 'close';

/** True when `storage` can commit incremental batches. */
export function isIncrementalStorage(storage: Storage): storage is IncrementalStorage {
  return typeof (storage as Partial<IncrementalStorage>).commit === 'function';
}
