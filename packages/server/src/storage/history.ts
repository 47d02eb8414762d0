import type { StoredComponent } from '../document/stored-component.js';
import type { IncrementalStorage, Storage, StoredRoom } from './storage.js';

/** One committed write in a room's history (SPEC H1). */
export interface HistoryEntry {
  /** The room clock the write produced. */
  clock: number;
  /** When the write was committed, in milliseconds since the epoch (stamped by the storage). */
  time: number;
  /** The writing client's id; `''` for writes made by the server (restore, import, server patches). */
  clientId: string;
  /** The keys the write touched. */
  keys: string[];
}

/** One page of a room's history, newest first. */
export interface HistoryPage {
  entries: HistoryEntry[];
  /** Pass as `before` to get the next (older) page; null when there is none. */
  nextBefore: number | null;
}

/** Why history entries were dropped: beyond `maxEntries`, older than `maxAgeMs`, or beyond `maxBytes`. */
export type HistoryDropReason = 'count' | 'age' | 'bytes';

/**
 * How long history is kept (SPEC H3): entries older than `maxAgeMs`, beyond
 * the newest `maxEntries`, or beyond the newest `maxBytes` (measured like the
 * room's stored bytes, SPEC B7) are folded into the base state and their
 * tombstones dropped. `maxEntries: 0` or `maxBytes: 0` turns history off.
 */
export interface HistoryRetention {
  maxAgeMs: number;
  maxEntries: number;
  maxBytes: number;
  /** Told how many entries a compaction dropped, and why (the server counts them in a metric). */
  onDropped?: (reason: HistoryDropReason, entries: number) => void;
}

/** Default history retention: 30 days (SPEC H3). */
export const DEFAULT_HISTORY_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** Default cap on the number of history entries kept per room. */
export const DEFAULT_HISTORY_MAX_ENTRIES = 100_000;
/**
 * Default cap on the bytes of history kept per room: as much as the default
 * room quota lets the document itself hold (`maxRoomBytes`, 32 MiB).
 */
export const DEFAULT_HISTORY_MAX_BYTES = 32 * 1024 * 1024;

/** The default {@link HistoryRetention}. */
export const DEFAULT_HISTORY_RETENTION: HistoryRetention = {
  maxAgeMs: DEFAULT_HISTORY_MAX_AGE_MS,
  maxEntries: DEFAULT_HISTORY_MAX_ENTRIES,
  maxBytes: DEFAULT_HISTORY_MAX_BYTES,
};

/**
 * One write as a commit hands it to a storage that keeps history: the entry,
 * plus the state each touched key had just BEFORE the write (keys absent from
 * `previous` did not exist). A past state is rebuilt from the live document by
 * undoing the writes after it, newest first, so the live document is the
 * checkpoint and recent states are the cheapest to read.
 */
export interface HistoryWrite extends HistoryEntry {
  previous: StoredComponent[];
}

/**
 * The history capability of an {@link IncrementalStorage} (SPEC H1, H3).
 * Storages that keep history record every write of a commit in the same
 * transaction (or journal record) as the write itself.
 */
export interface RoomHistory {
  /** False when history is turned off (`maxEntries` or `maxBytes` 0): the room then hands no writes to record. */
  keepsHistory(): boolean;
  /** Entries newest first, with clock `< before` when given; `limit` at most. */
  listHistory(options: { before?: number; limit: number }): Promise<HistoryPage>;
  /**
   * The document (components with stamps, tombstones) as of `clock`.
   *
   * `live`, when given, is the room's current state (at clock
   * `live.timestamp`, components the caller owns) to undo from, instead of
   * reading and parsing every stored component: a room passes its in-memory
   * document, once every write up to that clock is stored. The storage then
   * reads only the history after `clock`. Without it (or when `live` is ahead
   * of what is stored) the stored components are the starting point.
   *
   * @throws {@link HistoryHorizonError} when `clock` is before the horizon.
   */
  readAt(clock: number, live?: StoredRoom): Promise<StoredRoom>;
  /** Oldest clock whose state can still be read (SPEC H3). */
  horizon(): Promise<number>;
}

/** Thrown when a state older than the history horizon is asked for (SPEC H3). */
export class HistoryHorizonError extends Error {
  readonly code = 'history_horizon';

  constructor(
    readonly clock: number,
    readonly horizon: number,
  ) {
    super(`clock ${clock} is older than the history horizon ${horizon}`);
    this.name = 'HistoryHorizonError';
  }
}

/** Thrown by a room's history methods when its storage keeps no history. */
export class HistoryUnavailableError extends Error {
  readonly code = 'history_unavailable';

  constructor() {
    super("this room's storage keeps no history");
    this.name = 'HistoryUnavailableError';
  }
}

/** True when `storage` keeps history. */
export function hasHistory(storage: Storage): storage is IncrementalStorage & RoomHistory {
  const candidate = storage as Partial<IncrementalStorage & RoomHistory>;
  return (
    typeof candidate.commit === 'function' &&
    typeof candidate.listHistory === 'function' &&
    typeof candidate.readAt === 'function' &&
    typeof candidate.horizon === 'function'
  );
}
