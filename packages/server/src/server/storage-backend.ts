import { join } from 'node:path';
import type { Storage } from '../room/storage.js';
import { FileStorage } from '../storage/file-storage.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import { PostgresStorage } from '../storage/postgres-storage.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import type { ServerConfig } from './config/server-config.js';

/** The storage the server runs on, behind what the server needs of it. */
export interface StorageBackend {
  readonly kind: ServerConfig['storage'];
  /** Storage of one room, for the room manager. */
  forRoom(roomId: string): Storage;
  /** Removes a room's stored data (the room must be closed). */
  deleteRoom(roomId: string): Promise<void>;
  /** True when storage answers (for `/readyz`). */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the configured backend; throws when it cannot be opened (for example an unreadable database file). */
export function openStorageBackend(config: ServerConfig): StorageBackend {
  switch (config.storage) {
    case 'sqlite': {
      const sqlite = new SqliteStorage({ path: join(config.dataDir, 'rooms.db') });
      return {
        kind: 'sqlite',
        forRoom: (roomId) => sqlite.forRoom(roomId),
        deleteRoom: async (roomId) => sqlite.deleteRoom(roomId),
        isHealthy: async () => sqlite.isHealthy(),
        close: () => sqlite.close(),
      };
    }
    case 'postgres': {
      const postgres = new PostgresStorage({
        connectionString: config.postgresUrl,
        pool: { max: config.postgresPoolSize },
        queryTimeoutMs: config.postgresQueryTimeoutMs,
      });
      return {
        kind: 'postgres',
        forRoom: (roomId) => postgres.forRoom(roomId),
        deleteRoom: (roomId) => postgres.deleteRoom(roomId),
        isHealthy: () => postgres.isHealthy(),
        close: () => postgres.close(),
      };
    }
    case 'file': {
      const dir = join(config.dataDir, 'rooms');
      return {
        kind: 'file',
        forRoom: (roomId) => new FileStorage({ dir, roomId }),
        deleteRoom: (roomId) => FileStorage.deleteRoom(dir, roomId),
        isHealthy: async () => true,
        close: async () => {},
      };
    }
    case 'memory': {
      // One MemoryStorage per room, kept so a room closed for idleness reopens with its data.
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
    default: {
      const unreachable: never = config.storage;
      throw new Error(`unknown storage ${String(unreachable)}`);
    }
  }
}
