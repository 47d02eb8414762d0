import { FileStorage } from './file/file-storage.js';
import { MemoryStorage } from './memory/memory-storage.js';
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
      const sqlite = new SqliteStorage({ path: options.path });
      return {
        kind: 'sqlite',
        forRoom: (roomId) => sqlite.forRoom(roomId),
        deleteRoom: async (roomId) => sqlite.deleteRoom(roomId),
        isHealthy: async () => sqlite.isHealthy(),
        close: () => sqlite.close(),
      };
    }
    case 'postgres': {
      const postgres = new PostgresStorage(options.postgres);
      return {
        kind: 'postgres',
        forRoom: (roomId) => postgres.forRoom(roomId),
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
          compactAfterBytes === undefined
            ? new FileStorage({ dir, roomId })
            : new FileStorage({ dir, roomId, compactAfterBytes }),
        deleteRoom: (roomId) => FileStorage.deleteRoom(dir, roomId),
        // Files need no connection; the server adds its own directory check.
        isHealthy: async () => true,
        close: async () => {},
      };
    }
    case 'memory':
      return openMemoryBackend();
    default: {
      const unreachable: never = options;
      throw new Error(`unknown storage ${String((unreachable as { kind: unknown }).kind)}`);
    }
  }
}

/** One MemoryStorage per room, kept so a room closed for idleness reopens with its data. */
function openMemoryBackend(): StorageBackend {
  const rooms = new Map<string, MemoryStorage>();
  return {
    kind: 'memory',
    forRoom: (roomId) => {
      let storage = rooms.get(roomId);
      if (!storage) {
        storage = new MemoryStorage();
        rooms.set(roomId, storage);
      }
      return storage;
    },
    deleteRoom: async (roomId) => {
      rooms.delete(roomId);
    },
    isHealthy: async () => true,
    close: async () => {},
  };
}
