/** The markdown report of the storage benchmark (results/storage.md). */
import os from 'node:os';
import { type BackendId, DURABILITY } from './backends.js';
import { BACKENDS, PG_URL } from './compared.js';
import { allNa, type ThroughputResult } from './measure.js';
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
} from './report.js';
import { targetLines } from './targets.js';
import { LARGE_ROOM, type LargeRoomResult, THROUGHPUT } from './workload.js';

function cpuModel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown'} x ${cpus.length}`;
}

/** Everything the report is made of. */
export interface RenderInput {
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
export function best(rounds: readonly ThroughputResult[] | undefined): ThroughputResult {
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

/** The median load time of the room, or why there is none. */
export function loadCell(id: BackendId, result: LargeRoomResult | string | undefined): Cell {
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

/** The whole markdown report. */
export function render(input: RenderInput): string {
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
