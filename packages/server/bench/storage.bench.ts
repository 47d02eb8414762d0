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
import pg from 'pg';
import { postgresProblem } from '../test/helpers/postgres.js';
import { type BackendConfig, type BackendId, DURABILITY, type StorageCounters } from './storage/backends.js';
import { Child } from './storage/child.js';
import { quantile, runClosedLoop } from './storage/clients.js';
import {
  type Cell,
  cell,
  formatInt,
  formatMs,
  formatPercent,
  markdownTable,
  median,
  na,
  ok,
} from './storage/report.js';
import { LARGE_ROOM, type LargeRoomResult, THROUGHPUT } from './storage/workload.js';

const SERVER_SCRIPT = new URL('./storage/server.ts', import.meta.url);
const LARGE_ROOM_SCRIPT = new URL('./storage/large-room.ts', import.meta.url);
const RESULTS_FILE = new URL('./results/storage.md', import.meta.url);
const PG_URL = process.env.CANVAS_STORE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Backend {
  id: Exclude<BackendId, 'none'>;
  label: string;
  ours: boolean;
  durable: boolean;
}

const BACKENDS: Backend[] = [
  { id: 'memory', label: 'MemoryStorage (ours)', ours: true, durable: false },
  { id: 'sqlite', label: 'SqliteStorage (ours)', ours: true, durable: true },
  { id: 'file', label: 'FileStorage (ours)', ours: true, durable: true },
  { id: 'postgres', label: 'PostgresStorage (ours)', ours: true, durable: true },
  { id: 'published-file', label: 'FileStorage (published 2.0.2)', ours: false, durable: false },
];

interface ThroughputResult {
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

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function dropPostgresTables(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${prefix}components, ${prefix}rooms`);
  } finally {
    await client.end().catch(() => {});
  }
}

function allNa(reason: string): ThroughputResult {
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

async function measureThroughput(backend: Backend, config: BackendConfig): Promise<ThroughputResult> {
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

async function measureLargeRoom(config: BackendConfig): Promise<LargeRoomResult> {
  const child = Child.start(LARGE_ROOM_SCRIPT, config, ['--expose-gc', '--max-old-space-size=4096']);
  try {
    const outcome = await Promise.race([child.next('result', 180_000), child.next('error', 180_000)]);
    if (outcome.type === 'error') throw new Error(String(outcome.message));
    return outcome.result as LargeRoomResult;
  } finally {
    await child.stop(10_000);
  }
}

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

function cpuModel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown'} x ${cpus.length}`;
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

interface RenderInput {
  startedAt: Date;
  runSeconds: number;
  loadBefore: number;
  loadAfter: number;
  pressureBefore: string | null;
  pressureAfter: string | null;
  pgProblem: string | null;
  throughput: Map<BackendId, ThroughputResult[]>;
  largeRoom: Map<BackendId, LargeRoomResult | string>;
}

/** The round with the most acked writes/s (noise from other processes only slows a round down). */
function best(rounds: readonly ThroughputResult[] | undefined): ThroughputResult {
  let winner: ThroughputResult | undefined;
  for (const result of rounds ?? []) {
    if (!result.writesPerSec.ok) continue;
    if (!winner?.writesPerSec.ok || result.writesPerSec.value > winner.writesPerSec.value) winner = result;
  }
  return winner ?? rounds?.[0] ?? allNa('not run');
}

function largeCell(result: LargeRoomResult | string | undefined, pick: (r: LargeRoomResult) => Cell): Cell {
  if (result === undefined) return na('not run');
  if (typeof result === 'string') return na(result);
  return pick(result);
}

function stallCell(id: BackendId, result: LargeRoomResult | string | undefined): string {
  const value = largeCell(result, (r) => ok(r.stallMaxMs));
  if (!value.ok || typeof result !== 'object') return cell(value, formatMs);
  const saves = id === 'none' ? '' : `; ${result.saves} snapshot save${result.saves === 1 ? '' : 's'}`;
  return `${formatMs(value.value)} (${formatMs(result.ownStallMs)} w/o CPU wait${saves})`;
}

function loadCell(id: BackendId, result: LargeRoomResult | string | undefined): Cell {
  if (id === 'none') return na('no storage');
  return largeCell(result, (r) => {
    if (r.loadedComponents !== LARGE_ROOM.components) {
      return na(`loaded ${r.loadedComponents} of ${LARGE_ROOM.components} components`);
    }
    return ok(median(r.loadMs));
  });
}

function loadText(id: BackendId, result: LargeRoomResult | string | undefined): string {
  const load = loadCell(id, result);
  if (!load.ok || typeof result !== 'object') return cell(load, formatMs);
  return `${formatMs(load.value)} (storage.load() ${formatMs(median(result.storageLoadMs))})`;
}

function render(input: RenderInput): string {
  const { throughput, largeRoom } = input;
  const lines: string[] = [];
  lines.push('# Storage benchmark: our storages vs the published server');
  lines.push('');
  lines.push(`- Date: ${input.startedAt.toISOString()}`);
  lines.push(`- Node: ${process.version} (${process.platform}/${process.arch})`);
  lines.push(`- CPU: ${cpuModel()}`);
  lines.push(
    `- Run time: ${input.runSeconds.toFixed(1)} s; 1-minute load average ${input.loadBefore.toFixed(2)} at start, ` +
      `${input.loadAfter.toFixed(2)} at end (other processes on the machine add noise)`,
  );
  if (input.pressureBefore !== null && input.pressureAfter !== null) {
    lines.push(
      `- CPU pressure (Linux PSI, share of the last 60 s in which some runnable task waited for a CPU): ` +
        `${input.pressureBefore} at start, ${input.pressureAfter} at end`,
    );
  }
  lines.push(
    `- PostgreSQL: ${input.pgProblem ? `unreachable (${input.pgProblem})` : PG_URL.replace(/\/\/[^@]*@/, '//…@')}`,
  );
  lines.push('');

  const headers = [
    'Backend',
    'Acks wait for durable write',
    `Acked writes/s (10 clients, best of ${THROUGHPUT.rounds})`,
    'p50 ack (ms)',
    'p99 ack (ms)',
    'Max event-loop stall @100k (ms)',
    'Load 100k room (ms, median)',
  ];
  const rows = BACKENDS.map((backend) => {
    const t = best(throughput.get(backend.id));
    return [
      backend.label,
      DURABILITY[backend.id],
      cell(t.writesPerSec, formatInt),
      cell(t.p50, formatMs),
      cell(t.p99, formatMs),
      stallCell(backend.id, largeRoom.get(backend.id)),
      loadText(backend.id, largeRoom.get(backend.id)),
    ];
  });
  rows.push([
    'No storage (stall baseline)',
    DURABILITY.none,
    'n/a (not a backend)',
    'n/a',
    'n/a',
    stallCell('none', largeRoom.get('none')),
    'n/a (no storage)',
  ]);
  lines.push(markdownTable(headers, rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right']));
  lines.push('');

  lines.push('## Targets');
  lines.push('');
  lines.push(...targetLines(input));
  lines.push('');

  lines.push('## Details');
  lines.push('');
  const detailHeaders = [
    'Backend',
    'Acked writes/s per round',
    'Writes per commit',
    'Mean commit (ms)',
    'Server CPU',
    'Client CPU',
    'Build 100k + flush (ms)',
    'Loop delay p99 (ms)',
    'Longest gap: ms (main thread ran / waited for CPU)',
    'Max GC pause (ms)',
    'Longest sync save() call (ms)',
    'Longest sync commit() call (ms)',
    'Close 100k room (ms)',
    'Load runs (ms)',
    'storage.load() part (ms)',
  ];
  const detailRows = [...BACKENDS.map((b) => b.id), 'none' as const].map((id) => {
    const rounds = throughput.get(id) ?? [];
    const t = best(rounds);
    const l = largeRoom.get(id);
    const label = BACKENDS.find((b) => b.id === id)?.label ?? 'No storage (stall baseline)';
    const fromLarge = (pick: (r: LargeRoomResult) => number) =>
      cell(
        largeCell(l, (r) => ok(pick(r))),
        formatMs,
      );
    return [
      label,
      id === 'none' ? 'n/a' : rounds.map((r) => cell(r.writesPerSec, formatInt)).join(' / '),
      id === 'none' ? 'n/a' : cell(t.writesPerCommit, (v) => v.toFixed(1)),
      id === 'none' ? 'n/a' : cell(t.meanCommitMs, formatMs),
      id === 'none' ? 'n/a' : cell(t.serverCpu, formatPercent),
      id === 'none' ? 'n/a' : cell(t.clientCpu, formatPercent),
      fromLarge((r) => r.buildMs),
      fromLarge((r) => r.stallP99Ms),
      typeof l === 'object'
        ? `${formatMs(l.sampledMaxGapMs)} (${formatMs(l.runOfMaxGapMs)} / ${formatMs(l.waitOfMaxGapMs)})`
        : 'n/a',
      fromLarge((r) => r.maxGcMs),
      typeof l === 'object' && l.saves > 0 ? formatMs(l.maxSaveCallMs) : 'none in window',
      typeof l === 'object' && l.commits > 0 ? formatMs(l.maxCommitCallMs) : 'no commits',
      fromLarge((r) => r.closeMs),
      typeof l === 'object' && l.loadMs.length > 0 ? l.loadMs.map(formatMs).join(', ') : 'n/a',
      typeof l === 'object' && l.storageLoadMs.length > 0 ? l.storageLoadMs.map(formatMs).join(', ') : 'n/a',
    ];
  });
  lines.push(
    markdownTable(detailHeaders, detailRows, [
      'left',
      ...Array<'right'>(detailHeaders.length - 1).fill('right'),
    ]),
  );
  lines.push('');

  lines.push('## Method');
  lines.push('');
  lines.push(
    `- Acked writes: server in a child process (\`node --import tsx bench/storage/server.ts\`, the wiring of ` +
      `examples/basic-server.mjs: \`ws\` + acceptConnection + RoomManager) on a loopback port; ${THROUGHPUT.clients} raw \`ws\` ` +
      'clients in the benchmark process, each sending `reconnect` then one `patch` at a time (next write after the ack). ' +
      `Acks counted over ${THROUGHPUT.durationMs / 1000} s after a ${THROUGHPUT.warmupMs / 1000} s warm-up, ` +
      `${THROUGHPUT.rounds} rounds per backend in alternating order, best round reported; ` +
      'latency is send-to-ack. Every write is also broadcast to the 9 other clients. Rate limits are lifted for ' +
      'our server (the default is 100 frames/s per session); load/save storages save at most every 1 s.',
  );
  lines.push(
    `- Stall: one child process per backend builds a ${formatInt(LARGE_ROOM.components)}-component room (8 fields + \`_exists\` each) ` +
      `from patch frames of ${formatInt(LARGE_ROOM.buildFrameComponents)} components through a fake socket session, ` +
      `awaits \`room.flush()\`, collects garbage, then sends ${LARGE_ROOM.editsPerTick} random 1-3-field updates every ` +
      `${LARGE_ROOM.editIntervalMs} ms (timer turns) for ${LARGE_ROOM.editMs / 1000} s through \`handleSocketMessage\` while ` +
      '`monitorEventLoopDelay({ resolution: 1 })` runs; the max is reported. "w/o CPU wait" is the longest stall of a ' +
      '1 ms timer minus the time the main thread was runnable but waiting for a CPU (run-queue wait from ' +
      '/proc/<pid>/task/<pid>/schedstat); running and blocking system calls (fsync) still count. On this shared 2-core ' +
      'machine the scheduler alone can keep the loop waiting for tens of ms, which is not our work. ' +
      `\`saveThrottleMs\` is ${LARGE_ROOM.saveThrottleMs} ms so whole-snapshot saves of load/save storages fall inside the window; ` +
      `our FileStorage gets \`compactAfterBytes: ${LARGE_ROOM.fileCompactAfterBytes / 1024} KiB\` so a journal fold (a whole-snapshot ` +
      'save, which with the default 8 MiB happens once per 8 MiB of journal) also falls inside it. SQLite and PostgreSQL ' +
      'never take whole snapshots (they do not ask for them). The no-storage row is the floor (frame handling, GC).',
  );
  lines.push(
    `- Load: after the edited room is closed (persisted), a fresh Room over a fresh storage instance (a new ` +
      'SqliteStorage / PostgresStorage / FileStorage on the same files and tables; MemoryStorage keeps its data in its ' +
      `instance, so that one is reused) runs \`await room.load()\`; median of ${LARGE_ROOM.loadReps} runs, OS page cache warm. ` +
      'The published Room is measured the same way through its own API (`createStorage`, `saveThrottleMs`, `load`, `flush`).',
  );
  lines.push(
    '- "Longest sync save()/commit() call" is the synchronous part of a storage call seen by an instrumenting wrapper ' +
      '(cloning and serialising happen there); the snapshot the room builds before calling `save` is not included.',
  );
  const problems = BACKENDS.flatMap((b) =>
    (throughput.get(b.id) ?? []).flatMap((r) => r.problems).map((p) => `${b.label}: ${p}`),
  );
  if (problems.length > 0) {
    lines.push('');
    lines.push('## Problems seen');
    lines.push('');
    for (const problem of problems) lines.push(`- ${problem}`);
  }
  return lines.join('\n');
}

function targetLines(input: RenderInput): string[] {
  const out: string[] = [];
  const memory = best(input.throughput.get('memory')).writesPerSec;
  const sqlite = best(input.throughput.get('sqlite')).writesPerSec;
  if (memory.ok && sqlite.ok) {
    const ratio = sqlite.value / memory.value;
    out.push(
      `- ${ratio >= 0.5 ? 'PASS' : 'FAIL'}: SqliteStorage sustained acked writes/s >= 50% of MemoryStorage's ` +
        `(${formatInt(sqlite.value)} vs ${formatInt(memory.value)}: ${formatPercent(ratio)})`,
    );
  } else {
    out.push("- n/a: SqliteStorage acked writes/s >= 50% of MemoryStorage's (a measurement is missing)");
  }
  const baseline = input.largeRoom.get('none');
  const floor =
    typeof baseline === 'object'
      ? `; no-storage floor ${formatMs(baseline.stallMaxMs)} ms (${formatMs(baseline.ownStallMs)} ms w/o CPU wait)`
      : '';
  for (const backend of BACKENDS.filter((b) => b.ours && b.durable)) {
    const result = input.largeRoom.get(backend.id);
    const what = `no persistence stall over 20 ms at 100,000 components, ${backend.label}`;
    if (typeof result !== 'object') {
      out.push(`- n/a: ${what}: ${result ?? 'not run'}`);
      continue;
    }
    const facts =
      `max ${formatMs(result.stallMaxMs)} ms, ${formatMs(result.ownStallMs)} ms without CPU wait, ` +
      `${result.saves} snapshot save${result.saves === 1 ? '' : 's'} in the window`;
    if (result.stallMaxMs <= 20) {
      out.push(`- PASS: ${what}: ${facts}${floor}`);
    } else if (result.ownStallMs <= 20) {
      out.push(
        `- PASS (scheduler noise excluded): ${what}: ${facts}; the longest gap ` +
          `(${formatMs(result.sampledMaxGapMs)} ms) was ${formatMs(result.waitOfMaxGapMs)} ms waiting for a CPU and ` +
          `${formatMs(result.runOfMaxGapMs)} ms of our main thread running${floor}`,
      );
    } else {
      out.push(`- FAIL: ${what}: ${facts}${floor}`);
    }
  }
  for (const backend of BACKENDS) {
    const load = loadCell(backend.id, input.largeRoom.get(backend.id));
    const verdict = load.ok ? (load.value < 1000 ? 'PASS' : 'FAIL') : 'n/a';
    const tag = backend.ours ? verdict : `${verdict} (baseline, for reference)`;
    out.push(
      `- ${tag}: 100,000-component room loads in under 1 s, ${backend.label}: ` +
        (load.ok ? `${formatMs(load.value)} ms (median)` : load.reason),
    );
  }
  return out;
}

await main();
