/**
 * Storage benchmark: our MemoryStorage, SqliteStorage, FileStorage and
 * PostgresStorage side by side with the published server
 * (`@woven-ecs/canvas-store-server@2.0.2`) and its FileStorage.
 * Run with `npm run bench:storage`.
 *
 * 1. Sustained acked writes/s: a `ws` server (examples/basic-server.mjs
 *    wiring) in a child process, 10 closed-loop clients in this process.
 * 2. Longest event-loop stall while a 100,000-component room is edited, and
 * 3. the time to load that room: one child process per backend (fresh heap).
 *
 * Prints a markdown report and writes it to `bench/results/storage.md`.
 * Targets are reported as PASS/FAIL lines, never asserted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { postgresProblem } from '../test/helpers/postgres.js';
import type { BackendConfig, BackendId } from './storage/backends.js';
import { BACKENDS, PG_URL } from './storage/compared.js';
import { render } from './storage/markdown.js';
import {
  allNa,
  dropPostgresTables,
  errorText,
  log,
  measureLargeRoom,
  measureThroughput,
  type ThroughputResult,
} from './storage/measure.js';
import { cell, formatInt, formatMs } from './storage/report.js';
import { LARGE_ROOM, type LargeRoomResult, THROUGHPUT } from './storage/workload.js';

const RESULTS_FILE = new URL('./results/storage.md', import.meta.url);

/** The `some avg60` CPU pressure of Linux PSI, or null where it is not available. */
async function cpuPressure(): Promise<string | null> {
  try {
    const text = await readFile('/proc/pressure/cpu', 'utf8');
    const match = /some avg10=\S+ avg60=(\S+)/.exec(text);
    return match ? `${match[1]}%` : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const runStart = performance.now();
  const loadBefore = os.loadavg()[0] as number;
  const pressureBefore = await cpuPressure();
  const dataRoot = await mkdtemp(join(os.tmpdir(), 'canvas-store-storage-bench-'));
  const pgPrefix = `bench_storage_${process.pid}_${randomBytes(3).toString('hex')}_`;
  const pgProblem = await postgresProblem(PG_URL);
  if (pgProblem) log(`PostgreSQL unreachable at ${PG_URL}: ${pgProblem}`);
  const configFor = (id: BackendId): BackendConfig => ({
    backend: id,
    dataDir: join(dataRoot, id),
    pgUrl: PG_URL,
    pgPrefix,
  });

  const throughput = new Map<BackendId, ThroughputResult[]>();
  const largeRoom = new Map<BackendId, LargeRoomResult | string>();
  try {
    for (let round = 0; round < THROUGHPUT.rounds; round++) {
      // Alternate the order so that no backend always runs first (or last).
      const order = round % 2 === 0 ? BACKENDS : [...BACKENDS].reverse();
      for (const backend of order) {
        const results = throughput.get(backend.id) ?? [];
        throughput.set(backend.id, results);
        if (backend.id === 'postgres' && pgProblem) {
          if (round === 0) results.push(allNa('PostgreSQL unreachable'));
          continue;
        }
        log(`throughput round ${round + 1}/${THROUGHPUT.rounds}: ${backend.label}`);
        try {
          const result = await measureThroughput(backend, configFor(backend.id));
          results.push(result);
          log(
            `  ${cell(result.writesPerSec, formatInt)} acked writes/s, p50 ${cell(result.p50, formatMs)} ms, ` +
              `p99 ${cell(result.p99, formatMs)} ms${result.problems.length ? `; problems: ${result.problems.join('; ')}` : ''}`,
          );
        } catch (error) {
          log(`  failed: ${errorText(error)}`);
          results.push(allNa(`failed: ${errorText(error)}`));
        }
      }
    }
    for (const id of ['none', ...BACKENDS.map((b) => b.id)] as BackendId[]) {
      if (id === 'postgres' && pgProblem) {
        largeRoom.set(id, 'PostgreSQL unreachable');
        continue;
      }
      log(`100,000-component room: ${id}`);
      try {
        largeRoom.set(
          id,
          await measureLargeRoom({
            ...configFor(id),
            fileCompactAfterBytes: LARGE_ROOM.fileCompactAfterBytes,
          }),
        );
      } catch (error) {
        log(`  failed: ${errorText(error)}`);
        largeRoom.set(id, `failed: ${errorText(error)}`);
      }
    }
  } finally {
    await rm(dataRoot, { recursive: true, force: true });
    if (!pgProblem)
      await dropPostgresTables(pgPrefix).catch((error) =>
        log(`could not drop PG tables: ${errorText(error)}`),
      );
  }

  const report = render({
    startedAt,
    runSeconds: (performance.now() - runStart) / 1000,
    loadBefore,
    loadAfter: os.loadavg()[0] as number,
    pressureBefore,
    pressureAfter: await cpuPressure(),
    pgProblem,
    throughput,
    largeRoom,
  });
  process.stdout.write(`${report}\n`);
  await mkdir(new URL('./', RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, `${report}\n`);
  log(`written to ${RESULTS_FILE.pathname}`);
}

await main();
