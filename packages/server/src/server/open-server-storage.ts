import { join, resolve } from 'node:path';
import type { HistoryRetention } from '../storage/history.js';
import { openStorageBackend } from '../storage/open-storage-backend.js';
import type { StorageBackend, StorageBackendOptions } from '../storage/storage-backend.js';
import type { ServerConfig } from './config/server-config.js';
import { reasonOf, StartupError } from './lifecycle/startup-error.js';
import { dataDirWorks, probeDataDirSync } from './lifecycle/storage-probe.js';

/**
 * Opens the configured backend. The sqlite and file backends first probe their
 * directory (write, fsync, read back), and their health check then also
 * requires that directory to take a write, fsync and read.
 *
 * @throws {@link StartupError} naming the path, flag and what to do when storage cannot be used.
 */
export function openServerStorage(
  config: ServerConfig,
  onHistoryDropped?: HistoryRetention['onDropped'],
): StorageBackend {
  const history: HistoryRetention = {
    maxAgeMs: config.historyMaxAgeMs,
    maxEntries: config.historyMaxEntries,
    maxBytes: config.historyMaxBytes,
    ...(onHistoryDropped ? { onDropped: onHistoryDropped } : {}),
  };
  switch (config.storage) {
    case 'sqlite': {
      probeDataDirSync(config.dataDir);
      const path = join(config.dataDir, 'rooms.db');
      return withDirectoryCheck(openSqlite(path, history), config.dataDir);
    }
    case 'file': {
      const dir = join(config.dataDir, 'rooms');
      probeDataDirSync(dir);
      return withDirectoryCheck(openStorageBackend({ kind: 'file', dir, history }), dir);
    }
    case 'postgres':
      return openStorageBackend({
        kind: 'postgres',
        history,
        postgres: {
          connectionString: config.postgresUrl,
          pool: { max: config.postgresPoolSize },
          queryTimeoutMs: config.postgresQueryTimeoutMs,
        },
      });
    case 'memory':
      return openStorageBackend({ kind: 'memory', history });
    default: {
      const unreachable: never = config.storage;
      throw new Error(`unknown storage ${String(unreachable)}`);
    }
  }
}

/** Opens SQLite, turning a driver error into a sentence that names the file. */
function openSqlite(path: string, history: HistoryRetention): StorageBackend {
  const options: StorageBackendOptions = { kind: 'sqlite', path, history };
  try {
    return openStorageBackend(options);
  } catch (error) {
    throw new StartupError(
      `cannot open the SQLite database ${resolve(path)} (in --data-dir or CANVAS_DATA_DIR): ${reasonOf(error)}; check that the file is a canvas-store-server database and that the server may write it, or point --data-dir elsewhere`,
      { cause: error },
    );
  }
}

/** The backend, healthy only while `dir` also takes a write, fsync and read (for `/readyz`). */
function withDirectoryCheck(backend: StorageBackend, dir: string): StorageBackend {
  return { ...backend, isHealthy: async () => (await backend.isHealthy()) && (await dataDirWorks(dir)) };
}
