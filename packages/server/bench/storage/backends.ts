/**
 * The storage backends the storage benchmark compares, built the same way in
 * the child server (`server.ts`) and the large-room child (`large-room.ts`).
 */
import { join } from 'node:path';
import * as published from '@woven-ecs/canvas-store-server';
import {
  type IncrementalStorage,
  isIncrementalStorage,
  type RoomSnapshot,
  type Storage,
} from 'canvas-store-server';
// The backend factory is internal to the package, so it comes from the sources (run by tsx like the bench).
import { openStorageBackend } from '../../src/storage/open-storage-backend.js';

/** `none` is a baseline without storage, used only for the event-loop stall. */
const BACKEND_IDS = ['memory', 'sqlite', 'file', 'postgres', 'published-file', 'none'] as const;
export type BackendId = (typeof BACKEND_IDS)[number];

/** Everything a child needs to open the same storage as the parent describes. */
export interface BackendConfig {
  backend: BackendId;
  /** Directory for file and SQLite data (unique per run). */
  dataDir: string;
  pgUrl: string;
  /** Unique per run; its tables are dropped by the parent afterwards. */
  pgPrefix: string;
  /** Our FileStorage's journal folding threshold; default when undefined. */
  fileCompactAfterBytes?: number;
}

/** A storage of either server: both speak `load`/`save` (plus `commit` for our incremental ones). */
type AnyStorage = Storage | published.Storage;

/** Opens the storages of one backend; `close` releases shared handles (SQLite file, PG pool). */
export interface StorageSet {
  forRoom(roomId: string): AnyStorage;
  close(): Promise<void>;
}

export function openStorages(config: BackendConfig): StorageSet {
  switch (config.backend) {
    case 'memory':
      return openStorageBackend({ kind: 'memory' });
    case 'sqlite':
      return openStorageBackend({ kind: 'sqlite', path: join(config.dataDir, 'rooms.db') });
    case 'file': {
      const dir = join(config.dataDir, 'ours');
      return openStorageBackend({ kind: 'file', dir, compactAfterBytes: config.fileCompactAfterBytes });
    }
    case 'postgres':
      return openStorageBackend({
        kind: 'postgres',
        postgres: {
          connectionString: config.pgUrl,
          tablePrefix: config.pgPrefix,
          pool: { max: 4, connectionTimeoutMillis: 5_000 },
        },
      });
    case 'published-file': {
      const dir = join(config.dataDir, 'published');
      return { forRoom: (roomId) => new published.FileStorage({ dir, roomId }), close: async () => {} };
    }
    case 'none':
      return {
        forRoom: () => {
          throw new Error('the "none" baseline has no storage');
        },
        close: async () => {},
      };
  }
}

/** What the instrumented storage saw. Call durations are the synchronous part of each call. */
export interface StorageCounters {
  /** Time of the last `load` call, from call to resolution, ms. */
  loadMs: number;
  saves: number;
  /** Longest synchronous part of a `save` call (serialising/cloning happens there), ms. */
  maxSaveCallMs: number;
  commits: number;
  committedComponents: number;
  /** Sum and max of the time from `commit` call to resolution, ms. */
  commitMs: number;
  maxCommitMs: number;
  /** Longest synchronous part of a `commit` call, ms. */
  maxCommitCallMs: number;
}

export function emptyCounters(): StorageCounters {
  return {
    loadMs: 0,
    saves: 0,
    maxSaveCallMs: 0,
    commits: 0,
    committedComponents: 0,
    commitMs: 0,
    maxCommitMs: 0,
    maxCommitCallMs: 0,
  };
}

export function resetCounters(counters: StorageCounters): void {
  Object.assign(counters, emptyCounters());
}

/**
 * Wraps a storage to count and time its calls without changing what the room
 * sees: optional methods are exposed only when the wrapped storage has them,
 * so an incremental storage stays incremental and a load/save one stays load/save.
 */
export function instrument<S extends AnyStorage>(storage: S, counters: StorageCounters): S {
  const load = async (): Promise<RoomSnapshot | null> => {
    const started = performance.now();
    const snapshot = (await storage.load()) as RoomSnapshot | null;
    counters.loadMs = performance.now() - started;
    return snapshot;
  };
  const save = (snapshot: RoomSnapshot): Promise<void> => {
    const started = performance.now();
    const pending = storage.save(snapshot);
    counters.maxSaveCallMs = Math.max(counters.maxSaveCallMs, performance.now() - started);
    counters.saves++;
    return pending;
  };
  if (!isIncrementalStorage(storage as Storage)) {
    return { load, save } as S;
  }
  const inner = storage as IncrementalStorage;
  const wrapped: IncrementalStorage = {
    load,
    save,
    commit: async (batch) => {
      const started = performance.now();
      const pending = inner.commit(batch);
      counters.maxCommitCallMs = Math.max(counters.maxCommitCallMs, performance.now() - started);
      await pending;
      const took = performance.now() - started;
      counters.commits++;
      counters.committedComponents += batch.components.length;
      counters.commitMs += took;
      counters.maxCommitMs = Math.max(counters.maxCommitMs, took);
    },
  };
  const { wantsSnapshot, closingAfterFlush, close } = inner;
  if (wantsSnapshot) wrapped.wantsSnapshot = (reason) => wantsSnapshot.call(inner, reason);
  if (closingAfterFlush) wrapped.closingAfterFlush = () => closingAfterFlush.call(inner);
  if (close) wrapped.close = () => close.call(inner);
  return wrapped as unknown as S;
}

/** How each backend's acks relate to durability, for the report. */
export const DURABILITY: Record<BackendId, string> = {
  memory: 'no (memory only; throttled snapshot copy)',
  sqlite: 'yes: WAL commit per batch (synchronous=NORMAL)',
  file: 'yes: journal append + fdatasync per batch',
  postgres: 'yes: one upsert statement per batch',
  'published-file': 'no: ack at once, throttled whole-file save',
  none: 'n/a',
};
