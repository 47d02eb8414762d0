/** The storages the storage benchmark compares, and the PostgreSQL it uses. */
import type { BackendId } from './backends.js';

/** PostgreSQL of the PostgresStorage runs (CANVAS_STORE_BENCH_PG_URL). */
export const PG_URL = process.env.CANVAS_STORE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One storage under test. */
export interface Backend {
  id: Exclude<BackendId, 'none'>;
  label: string;
  ours: boolean;
  durable: boolean;
}

/** The storages, in their default order. */
export const BACKENDS: Backend[] = [
  { id: 'memory', label: 'MemoryStorage (ours)', ours: true, durable: false },
  { id: 'sqlite', label: 'SqliteStorage (ours)', ours: true, durable: true },
  { id: 'file', label: 'FileStorage (ours)', ours: true, durable: true },
  { id: 'postgres', label: 'PostgresStorage (ours)', ours: true, durable: true },
  { id: 'published-file', label: 'FileStorage (published 2.0.2)', ours: false, durable: false },
];
