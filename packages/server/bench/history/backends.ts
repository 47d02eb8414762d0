/** The storages the history benchmark opens, one fresh data set per call. */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileStorage,
  type HistoryRetention,
  MemoryHistoryStorage,
  PostgresStorage,
  SqliteStorage,
  type Storage,
} from 'canvas-store-server';
import pg from 'pg';

export type Backend = 'memory' | 'sqlite' | 'file' | 'postgres';
export const BACKENDS: Backend[] = ['memory', 'sqlite', 'file', 'postgres'];

/** PostgreSQL of the postgres rows: CANVAS_STORE_BENCH_PG_URL, else the tests' URL, else the local default. */
const PG_URL =
  process.env.CANVAS_STORE_BENCH_PG_URL ??
  process.env.CANVAS_STORE_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

/** One opened storage of one room (`bench`). */
export interface Opened {
  storage: Storage;
  /**
   * Bytes stored, once the room is closed: on disk (SQLite after its final
   * checkpoint, so the WAL does not count; file), in the tables and their
   * indexes (PostgreSQL); 0 for memory.
   */
  bytes(): Promise<number>;
  close(): Promise<void>;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stats = statSync(join(dir, name));
    if (stats.isFile()) total += stats.size;
  }
  return total;
}

let pgRuns = 0;

/** Runs `sql` on a short-lived connection. */
async function pgQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why PostgreSQL cannot be used, or null when it can. */
export async function postgresProblem(): Promise<string | null> {
  try {
    await pgQuery('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Opens a fresh, empty storage of `backend` with history `retention`. */
export function open(backend: Backend, history: Partial<HistoryRetention>): Opened {
  if (backend === 'postgres') {
    // A table prefix per run: no leftovers of an earlier run, dropped on close.
    const prefix = `hbench_${process.pid}_${++pgRuns}_`;
    const postgres = new PostgresStorage({ connectionString: PG_URL, tablePrefix: prefix, history });
    const tables = ['rooms', 'components', 'history', 'room_epochs'].map((table) => `${prefix}${table}`);
    return {
      storage: postgres.forRoom('bench'),
      bytes: async () => {
        const sizes = tables.map((table) => `coalesce(pg_total_relation_size(to_regclass('${table}')), 0)`);
        const [row] = await pgQuery<{ bytes: string }>(`SELECT ${sizes.join(' + ')} AS bytes`);
        return Number(row?.bytes ?? 0);
      },
      close: async () => {
        await postgres.close();
        await pgQuery(`DROP TABLE IF EXISTS ${tables.join(', ')}`);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'history-bench-'));
  const cleanup = async () => rmSync(dir, { recursive: true, force: true });
  switch (backend) {
    case 'memory': {
      const storage = new MemoryHistoryStorage({ history });
      return { storage, bytes: async () => 0, close: cleanup };
    }
    case 'sqlite': {
      const sqlite = new SqliteStorage({ path: join(dir, 'rooms.db'), history });
      return {
        storage: sqlite.forRoom('bench'),
        bytes: async () => {
          await sqlite.close();
          return dirBytes(dir);
        },
        close: async () => {
          await sqlite.close();
          await cleanup();
        },
      };
    }
    case 'file': {
      const storage = new FileStorage({ dir, roomId: 'bench', history, compactAfterBytes: 1e12 });
      return { storage, bytes: async () => dirBytes(dir), close: cleanup };
    }
  }
}
