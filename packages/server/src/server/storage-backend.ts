import { join, resolve } from 'node:path';
import { FileStorage } from '../storage/file/file-storage.js';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { PostgresStorage } from '../storage/postgres/postgres-storage.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/storage.js';
import type { ServerConfig } from './config/server-config.js';
import { reasonOf, StartupError } from './lifecycle/startup-error.js';
import { dataDirWorks, probeDataDirSync } from './lifecycle/storage-probe.js';

/** The storage the server runs on, behind what the server needs of it. */
export interface StorageBackend {
  readonly kind: ServerConfig['storage'];
  /** Storage of one room, for the room manager. */
  forRoom(roomId: string): Storage;
  /** Removes a room's stored data (the room must be closed). */
  deleteRoom(roomId: string): Promise<void>;
  /** True when storage answers and, for sqlite and file, its directory takes a write, fsync and read (for `/readyz`). */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens SQLite, turning a driver error into a sentence that names the file. */
function openSqlite(path: string): SqliteStorage {
  try {
    return new SqliteStorage({ path });
  } catch (error) {
    throw new StartupError(
      `cannot open the SQLite database ${resolve(path)} (in --data-dir or CANVAS_DATA_DIR): ${reasonOf(error)}; check that the file is a canvas-store-server database and that the server may write it, or point --data-dir elsewhere`,
      { cause: error },
    );
  }
}

/**
 * Opens the configured backend. The sqlite and file backends first probe their
 * directory (write, fsync, read back).
 *
 * @throws {@link StartupError} naming the path, flag and what to do when storage cannot be used.
 */
export function openStorageBackend(config: ServerConfig): StorageBackend {
  switch (config.storage) {
    case 'sqlite': {
      probeDataDirSync(config.dataDir);
      const sqlite = openSqlite(join(config.dataDir, 'rooms.db'));
      return {
        kind: 'sqlite',
        forRoom: (roomId) => sqlite.forRoom(roomId),
        deleteRoom: async (roomId) => sqlite.deleteRoom(roomId),
        isHealthy: async () => sqlite.isHealthy() && (await dataDirWorks(config.dataDir)),
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
      probeDataDirSync(dir);
      return {
        kind: 'file',
        forRoom: (roomId) => new FileStorage({ dir, roomId }),
        deleteRoom: (roomId) => FileStorage.deleteRoom(dir, roomId),
        isHealthy: () => dataDirWorks(dir),
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
