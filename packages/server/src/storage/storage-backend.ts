import type { HistoryRetention } from './history.js';
import type { PostgresStorageOptions } from './postgres/postgres-storage.js';
import type { RoomFence } from './room-fence.js';
import type { Storage } from './storage.js';

/**
 * Which backend to open and how; {@link openStorageBackend} turns it into a
 * {@link StorageBackend}. The server builds it from its configuration, the
 * storage benchmark from its own.
 */
export type StorageBackendOptions = (
  | { kind: 'memory' }
  | { kind: 'sqlite' /** The database file. */; path: string }
  | {
      kind: 'file';
      /** Directory of the room files. */
      dir: string;
      /** Journal folding threshold of each room; the storage's default when undefined. */
      compactAfterBytes?: number;
    }
  | { kind: 'postgres'; postgres: PostgresStorageOptions }
) & {
  /** History retention of every room (SPEC H1, H3); the defaults when undefined, `maxEntries: 0` turns it off. */
  history?: Partial<HistoryRetention>;
  /** The clock of history times and age retention; `Date.now` by default (tests inject one). */
  now?: () => number;
};

/** The backends {@link openStorageBackend} knows. */
type StorageBackendKind = StorageBackendOptions['kind'];

/** Storage for many rooms: what a room manager and the server need of one backend. */
export interface StorageBackend {
  readonly kind: StorageBackendKind;
  /** Storage of one room, for the room manager. */
  forRoom(roomId: string): Storage;
  /**
   * Storage of one room whose writes are fenced by epoch (SPEC K2); only
   * backends several processes can share (PostgreSQL) have it.
   */
  forFencedRoom?(roomId: string, fence: RoomFence): Storage;
  /** Removes a room's stored data (the room must be closed). */
  deleteRoom(roomId: string): Promise<void>;
  /** True when storage answers (for `/readyz`). */
  isHealthy(): Promise<boolean>;
  /**
   * One step of idle compaction (SPEC H3): applies age retention to up to
   * `budget` rooms, continuing where the previous step stopped, so that the
   * history of rooms nobody writes is compacted too. Absent for the file
   * backend, whose rooms apply retention when they load and commit.
   *
   * @returns the rooms whose history was compacted.
   */
  compactIdleHistory?(budget: number): Promise<string[]>;
  /** Releases shared handles (the SQLite file, the PostgreSQL pool). */
  close(): Promise<void>;
}
