/** Measurements of the storage benchmark, each in a child process of its own. */
import pg from 'pg';
import type { BackendConfig, StorageCounters } from './backends.js';
import { Child } from './child.js';
import { quantile, runClosedLoop } from './clients.js';
import type { Backend } from './compared.js';
import { PG_URL } from './compared.js';
import { type Cell, formatMs, na, ok } from './report.js';
import { type LargeRoomResult, THROUGHPUT } from './workload.js';

const SERVER_SCRIPT = new URL('./server.ts', import.meta.url);
const LARGE_ROOM_SCRIPT = new URL('./large-room.ts', import.meta.url);

/** Sustained acked writes of one backend in one round. */
export interface ThroughputResult {
  writesPerSec: Cell;
  p50: Cell;
  p99: Cell;
  writesPerCommit: Cell;
  meanCommitMs: Cell;
  serverCpu: Cell;
  clientCpu: Cell;
  problems: string[];
}

interface ServerStats {
  cpu: { user: number; system: number };
  counters: StorageCounters;
}

/** Progress goes to stderr; stdout carries the report. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The message of a thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Drops the tables of one run (prefix `prefix`). */
export async function dropPostgresTables(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${prefix}components, ${prefix}rooms`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A result whose every cell is n/a for `reason`. */
export function allNa(reason: string): ThroughputResult {
  return {
    writesPerSec: na(reason),
    p50: na(reason),
    p99: na(reason),
    writesPerCommit: na(reason),
    meanCommitMs: na(reason),
    serverCpu: na(reason),
    clientCpu: na(reason),
    problems: [],
  };
}

/** Runs the closed-loop clients against `backend` served from a child process. */
export async function measureThroughput(backend: Backend, config: BackendConfig): Promise<ThroughputResult> {
  const child = Child.start(SERVER_SCRIPT, config);
  try {
    const ready = await child.next('ready', 60_000);
    const port = ready.port as number;
    const stats = async () =>
      (await child.request({ type: 'stats' }, 'stats', 30_000)) as unknown as ServerStats;
    let before: ServerStats | null = null;
    let after: ServerStats | null = null;
    const load = await runClosedLoop({
      port,
      roomId: 'bench',
      clients: THROUGHPUT.clients,
      warmupMs: THROUGHPUT.warmupMs,
      durationMs: THROUGHPUT.durationMs,
      onWindowStart: async () => {
        before = await stats();
      },
      onWindowEnd: async () => {
        after = await stats();
      },
    });
    const stopped = await child.request({ type: 'stop' }, 'stopped', 120_000);
    log(`  server closed its rooms in ${formatMs(stopped.closeMs as number)} ms`);
    const seconds = load.windowMs / 1000;
    const result: ThroughputResult = {
      ...allNa('not measured'),
      writesPerSec: ok(load.acked / seconds),
      p50: ok(quantile(load.latencies, 0.5)),
      p99: ok(quantile(load.latencies, 0.99)),
      clientCpu: ok(load.clientCpuMs / load.windowMs),
      problems: load.problems,
    };
    const b = before as ServerStats | null;
    const a = after as ServerStats | null;
    if (a && b) {
      const cpuMs = (a.cpu.user + a.cpu.system - b.cpu.user - b.cpu.system) / 1000;
      result.serverCpu = ok(cpuMs / load.windowMs);
      const commits = a.counters.commits - b.counters.commits;
      if (commits > 0) {
        result.writesPerCommit = ok(load.acked / commits);
        result.meanCommitMs = ok((a.counters.commitMs - b.counters.commitMs) / commits);
      } else {
        const reason =
          backend.id === 'memory' || backend.id === 'published-file' ? 'no commits: load/save' : 'no commits';
        result.writesPerCommit = na(reason);
        result.meanCommitMs = na(reason);
      }
    }
    return result;
  } finally {
    await child.stop(10_000);
  }
}

/** Builds, edits and reloads the 100,000-component room in a child process. */
export async function measureLargeRoom(config: BackendConfig): Promise<LargeRoomResult> {
  const child = Child.start(LARGE_ROOM_SCRIPT, config, ['--expose-gc', '--max-old-space-size=4096']);
  try {
    const outcome = await Promise.race([child.next('result', 180_000), child.next('error', 180_000)]);
    if (outcome.type === 'error') throw new Error(String(outcome.message));
    return outcome.result as LargeRoomResult;
  } finally {
    await child.stop(10_000);
  }
}
