import { FileStorage } from './file/file-storage.js';
import type { HistoryRetention } from './history.js';
import { resolveHistoryRetention } from './history-log.js';
import { MemoryHistoryStorage } from './memory/memory-history-storage.js';
import { PostgresStorage } from './postgres/postgres-storage.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { StorageBackend, StorageBackendOptions } from './storage-backend.js';

/**
 * Opens one backend for many rooms: the only place that chooses a storage
 * class by name, shared by the server and the storage benchmark.
 *
 * @throws what the backend's constructor throws (for SQLite, a file that cannot be opened).
 */
export function openStorageBackend(options: StorageBackendOptions): StorageBackend {
  switch (options.kind) {
    case 'sqlite': {
      const sqlite = new SqliteStorage({ path: options.path, ...historyOptions(options) });
      return {
        kind: 'sqlite',
        forRoom: (roomId) => sqlite.forRoom(roomId),
        compactIdleHistory: (budget) => sqlite.compactIdleHistory(budget),
        deleteRoom: async (roomId) => sqlite.deleteRoom(roomId),
        isHealthy: async () => sqlite.isHealthy(),
        close: () => sqlite.close(),
      };
    }
    case 'postgres': {
      const postgres = new PostgresStorage({ ...options.postgres, ...historyOptions(options) });
      return {
        kind: 'postgres',
        forRoom: (roomId) => postgres.forRoom(roomId),
        compactIdleHistory: (budget) => postgres.compactIdleHistory(budget),
        forFencedRoom: (roomId, fence) => postgres.forRoom(roomId, fence),
        deleteRoom: (roomId) => postgres.deleteRoom(roomId),
        isHealthy: () => postgres.isHealthy(),
        close: () => postgres.close(),
      };
    }
    case 'file': {
      const { dir, compactAfterBytes } = options;
      return {
        kind: 'file',
        forRoom: (roomId) =>
          new FileStorage({
            dir,
            roomId,
            ...(compactAfterBytes === undefined ? {} : { compactAfterBytes }),
            ...historyOptions(options),
          }),
        deleteRoom: (roomId) => FileStorage.deleteRoom(dir, roomId),
        // Files need no connection; the server adds its own directory check.
        isHealthy: async () => true,
        close: async () => {},
      };
    }
    case 'memory':
      return openMemoryBackend(options.history, options.now);
    default: {
      const unreachable: never = options;
      throw new Error(`unknown storage ${String((unreachable as { kind: unknown }).kind)}`);
    }
  }
}

/** The history options of a backend's storages, without undefined values. */
function historyOptions(options: StorageBackendOptions): {
  history?: Partial<HistoryRetention>;
  now?: () => number;
} {
  return {
    ...(options.history ? { history: options.history } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
}

/** One MemoryHistoryStorage per room, kept so a room closed for idleness reopens with its data and history. */
function openMemoryBackend(
  history: Partial<HistoryRetention> | undefined,
  now: (() => number) | undefined,
): StorageBackend {
  const retention = resolveHistoryRetention(history);
  const rooms = new Map<string, MemoryHistoryStorage>();
  /** The rooms idle compaction visits next, in the map's order; refilled when used up. */
  let visit: Iterator<[string, MemoryHistoryStorage]> = rooms.entries();
  return {
    kind: 'memory',
    forRoom: (roomId) => {
      let storage = rooms.get(roomId);
      if (!storage) {
        storage = new MemoryHistoryStorage({ history: retention, ...(now ? { now } : {}) });
        rooms.set(roomId, storage);
      }
      return storage;
    },
    deleteRoom: async (roomId) => {
      rooms.delete(roomId);
    },
    compactIdleHistory: async (budget) => {
      const compacted: string[] = [];
      for (let seen = 0; seen < Math.min(budget, rooms.size); seen++) {
        let next = visit.next();
        if (next.done) {
          visit = rooms.entries();
          next = visit.next();
          if (next.done) break;
        }
        const [roomId, storage] = next.value;
        if (storage.compactIdle()) compacted.push(roomId);
      }
      return compacted;
    },
    isHealthy: async () => true,
    close: async () => {},
  };
}
