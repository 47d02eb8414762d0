/**
 * Core benchmark: our library against the published server
 * (`@woven-ecs/canvas-store-server@2.0.2`) on identical, pre-serialized
 * workloads, in one process. Run with `npm run bench:core` (needs `--expose-gc`).
 *
 * Prints a markdown report and writes it to `bench/results/core.md`.
 * This is a report: nothing here fails on slow numbers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import {
  type BenchRoom,
  type CapturingSocket,
  capturingSocket,
  countingSocket,
  IMPLS,
  type Impl,
  noopSocket,
  OURS,
  PUBLISHED,
} from './lib/impls.js';
import {
  canForceGc,
  forceGc,
  median,
  type SampleOptions,
  type Samples,
  sampleInterleaved,
  settledHeapUsed,
  timeIt,
} from './lib/measure.js';
import { type Align, formatMs, formatNumber, formatRatio, markdownTable } from './lib/table.js';
import {
  creationFrames,
  type PatchStream,
  patchFrame,
  patchStream,
  reconnectFrame,
  shapeKey,
} from './lib/workload.js';

const THROUGHPUT = { baseComponents: 5_000, frames: 20_000, seed: 42, warmupRounds: 2, rounds: 9 };
const SIZES = [10_000, 100_000] as const;
const HEAP_SIZE = 100_000;
const BUILD_PER_FRAME = 1_000;
const CHANGED_KEYS = 5;

const RECENT_RECONNECT: SampleOptions = { warmup: 5, minReps: 9, maxReps: 1_000, budgetMs: 1_500 };
const FULL_RECONNECT: SampleOptions = { warmup: 2, minReps: 5, maxReps: 200, budgetMs: 2_500 };
const SNAPSHOT: SampleOptions = { warmup: 2, minReps: 5, maxReps: 200, budgetMs: 2_500 };

type ImplId = Impl['id'];

/** A measured value, or the reason it could not be measured. */
type Measurement = { ok: true; value: number; samples?: Samples } | { ok: false; reason: string };

function measured(value: number, samples?: Samples): Measurement {
  return samples ? { ok: true, value, samples } : { ok: true, value };
}

function notAvailable(reason: string): Measurement {
  return { ok: false, reason };
}

interface Row {
  metric: string;
  better: 'higher' | 'lower';
  format: (value: number) => string;
  /** Words for "ours is better" and "ours is worse". */
  words: [string, string];
  results: Record<ImplId, Measurement>;
}

const notes: string[] = [];

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function connectWriter(room: BenchRoom): { writer: string; writerSocket: ReturnType<typeof countingSocket> } {
  const writerSocket = countingSocket();
  const writer = room.handleSocketConnect({
    socket: writerSocket,
    clientId: 'writer',
    permissions: 'readwrite',
  });
  // A second session receives every broadcast (into a no-op socket).
  room.handleSocketConnect({ socket: noopSocket(), clientId: 'viewer', permissions: 'readwrite' });
  return { writer, writerSocket };
}

/** The live components of a snapshot, as canonical JSON per key (tombstones dropped). */
function liveState(room: BenchRoom): { live: Map<string, string>; tombstones: number } {
  const live = new Map<string, string>();
  let tombstones = 0;
  const { state } = room.getSnapshot();
  for (const key of Object.keys(state)) {
    const component = state[key] as Record<string, unknown>;
    if (component._exists === false) {
      tombstones++;
      continue;
    }
    const fields = Object.keys(component).sort();
    live.set(key, JSON.stringify(fields.map((field) => [field, component[field]])));
  }
  return { live, tombstones };
}

function sameLiveState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

// ---------------------------------------------------------------------------
// 1. Patch apply throughput
// ---------------------------------------------------------------------------

interface RoundResult {
  framesPerSecond: number;
  problem: string | null;
  state?: ReturnType<typeof liveState>;
}

function throughputRound(impl: Impl, stream: PatchStream, keepState: boolean): RoundResult {
  const handle = impl.create();
  const { room } = handle;
  const { writer, writerSocket } = connectWriter(room);
  for (const frame of stream.baseFrames) room.handleSocketMessage(writer, frame);
  const clockBefore = handle.clock();
  writerSocket.sent = 0;
  forceGc();
  const { frames } = stream;
  const elapsed = timeIt(() => {
    for (let i = 0; i < frames.length; i++) room.handleSocketMessage(writer, frames[i] as string);
  });
  let problem: string | null = null;
  if (writerSocket.closed) problem = 'the writer session was closed';
  else if (writerSocket.sent !== frames.length)
    problem = `writer got ${writerSocket.sent} frames for ${frames.length} writes`;
  else if (!writerSocket.last?.includes('"type":"ack"'))
    problem = `last frame to the writer was ${writerSocket.last}`;
  else if (handle.clock() !== clockBefore + frames.length) {
    problem = `clock moved by ${handle.clock() - clockBefore}, expected ${frames.length}`;
  }
  const state = keepState ? liveState(room) : undefined;
  handle.dispose();
  const result: RoundResult = { framesPerSecond: frames.length / (elapsed / 1000), problem };
  if (state) result.state = state;
  return result;
}

function benchThroughput(): { row: Row; details: string[][]; pairedRatio: number | null } {
  log(`[1/2] patch apply throughput: generating ${formatNumber(THROUGHPUT.frames)} frames...`);
  const stream = patchStream({
    baseComponents: THROUGHPUT.baseComponents,
    frames: THROUGHPUT.frames,
    seed: THROUGHPUT.seed,
  });
  const rates: Record<ImplId, number[]> = { ours: [], published: [] };
  const problems: Partial<Record<ImplId, string>> = {};
  const states: Partial<Record<ImplId, ReturnType<typeof liveState>>> = {};
  const totalRounds = THROUGHPUT.warmupRounds + THROUGHPUT.rounds;
  for (let round = 0; round < totalRounds; round++) {
    // Alternate the order so neither implementation always runs on a "fresh" heap.
    const order = round % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const impl of order) {
      const result = throughputRound(impl, stream, round === 0);
      if (result.state) states[impl.id] = result.state;
      if (result.problem) problems[impl.id] ??= result.problem;
      if (round >= THROUGHPUT.warmupRounds) rates[impl.id].push(result.framesPerSecond);
    }
    log(`  round ${round + 1}/${totalRounds}${round < THROUGHPUT.warmupRounds ? ' (warm-up)' : ''} done`);
  }
  const { mix } = stream;
  // Rounds are interleaved, so round i of both ran under similar machine load.
  const paired = rates.ours.map((rate, i) => rate / (rates.published[i] as number));
  const pairedRatio = paired.length > 0 && paired.every(Number.isFinite) ? median(paired) : null;
  notes.push(
    `Patch stream: ${formatNumber(THROUGHPUT.frames)} frames (${formatNumber(stream.bytes / THROUGHPUT.frames, 0)} bytes each on average; ` +
      `${formatNumber(mix.updates)} updates of 1-3 fields, ${formatNumber(mix.creates)} creations of 8-field shapes, ` +
      `${formatNumber(mix.deletes)} deletions; 1-3 keys per frame) applied by one readwrite session to a room pre-built ` +
      `with ${formatNumber(THROUGHPUT.baseComponents)} shapes, a second readwrite session receiving broadcasts into a no-op socket. ` +
      `A fresh room per round; ${THROUGHPUT.warmupRounds} warm-up + ${THROUGHPUT.rounds} measured rounds per implementation, ` +
      'interleaved; the median round is reported.',
  );
  const ours = states.ours;
  const published = states.published;
  if (ours && published) {
    const same = sameLiveState(ours.live, published.live);
    notes.push(
      `After the stream both servers hold ${same ? 'the same' : 'DIFFERENT'} live document ` +
        `(ours ${formatNumber(ours.live.size)} live components, published ${formatNumber(published.live.size)}). ` +
        `getSnapshot() lists ${formatNumber(ours.tombstones)} tombstones in ours and ${formatNumber(published.tombstones)} ` +
        'in the published server (SPEC D10: ours returns only the live document).',
    );
  }
  const results = {} as Record<ImplId, Measurement>;
  const details: string[][] = [];
  for (const impl of IMPLS) {
    const problem = problems[impl.id];
    const list = rates[impl.id];
    results[impl.id] = problem ? notAvailable(problem) : measured(median(list));
    details.push([
      'Patch apply throughput',
      impl.id,
      String(list.length),
      `${formatNumber(median(list))} frames/s`,
      `${formatNumber(Math.min(...list))} frames/s`,
      `${formatNumber(Math.max(...list))} frames/s`,
    ]);
  }
  return {
    row: {
      metric: `Patch apply throughput (frames/s, ${formatNumber(THROUGHPUT.frames)}-frame stream)`,
      better: 'higher',
      format: (value) => formatNumber(value),
      words: ['faster', 'slower'],
      results,
    },
    details,
    pairedRatio,
  };
}

// ---------------------------------------------------------------------------
// 2-5. Reconnects, snapshot and heap on big rooms
// ---------------------------------------------------------------------------

interface ChangedField {
  key: string;
  field: string;
  value: number;
}

interface SizeWorkload {
  size: number;
  build: string[];
  changes: string[];
  changed: ChangedField[];
}

function sizeWorkload(size: number): SizeWorkload {
  const build = creationFrames(size, BUILD_PER_FRAME, 7, 'build');
  const changed: ChangedField[] = [];
  const changes: string[] = [];
  for (let k = 0; k < CHANGED_KEYS; k++) {
    const id = Math.floor(((k + 0.5) * size) / CHANGED_KEYS);
    const change = { key: shapeKey(id), field: 'x', value: 1_000_000 + k + 0.25 };
    changed.push(change);
    changes.push(patchFrame(`change${k}`, { [change.key]: { [change.field]: change.value } }));
  }
  return { size, build, changes, changed };
}

/** What a reconnect reply must hold: these exact field values, or this many keys. */
type ReplyExpectation = { changed: ChangedField[] } | { keyCount: number };

/** Checks a reconnect reply (SPEC D7): a `patch` with clientId '' holding what is expected, then `synced`. */
function checkReconnectReply(frames: readonly string[], expect: ReplyExpectation): string | null {
  if (frames.length === 0) return 'no reply at all';
  const messages = frames.map((frame) => JSON.parse(frame) as Record<string, unknown>);
  const last = messages[messages.length - 1];
  if (last?.type !== 'synced') return `the reply does not end with "synced" (got ${String(last?.type)})`;
  const merged: Record<string, Record<string, unknown>> = {};
  for (const message of messages) {
    if (message.type !== 'patch' || message.clientId !== '' || !Array.isArray(message.documentPatches))
      continue;
    for (const patch of message.documentPatches as Record<string, Record<string, unknown>>[]) {
      for (const key of Object.keys(patch)) merged[key] = { ...merged[key], ...patch[key] };
    }
  }
  const keys = Object.keys(merged).length;
  if ('keyCount' in expect) {
    return keys === expect.keyCount ? null : `the reply holds ${keys} keys, expected ${expect.keyCount}`;
  }
  for (const { key, field, value } of expect.changed) {
    if (merged[key]?.[field] !== value) return `the reply lacks ${key}.${field} = ${value}`;
  }
  return null;
}

/** Heap growth per component while building the room, in a fresh state. */
function measureHeap(impl: Impl, work: SizeWorkload): { heap: Measurement; buildMs: number } {
  forceGc();
  const handle = impl.create();
  const { room } = handle;
  const { writer, writerSocket } = connectWriter(room);
  const heapBefore = settledHeapUsed();
  const buildMs = timeIt(() => {
    for (const frame of work.build) room.handleSocketMessage(writer, frame);
  });
  const heapAfter = settledHeapUsed();
  const problem = buildProblem(handle.clock(), writerSocket.closed, work);
  handle.dispose();
  if (problem) return { heap: notAvailable(problem), buildMs };
  if (!canForceGc()) return { heap: notAvailable('run node with --expose-gc'), buildMs };
  return { heap: measured((heapAfter - heapBefore) / work.size), buildMs };
}

function buildProblem(clock: number, writerClosed: boolean, work: SizeWorkload): string | null {
  if (writerClosed) return 'the writer session was closed while building';
  if (clock !== work.build.length)
    return `building moved the clock to ${clock}, expected ${work.build.length}`;
  return null;
}

/** A built room of `work.size` shapes plus the changes, with a session for reconnects. */
interface BuiltRoom {
  impl: Impl;
  room: BenchRoom;
  dispose: () => void;
  /** The clock before the changes: what a recently disconnected client last saw. */
  built: number;
  reconnector: string;
  socket: CapturingSocket;
  problem: string | null;
}

function buildRoom(impl: Impl, work: SizeWorkload): BuiltRoom {
  const handle = impl.create();
  const { room } = handle;
  const { writer, writerSocket } = connectWriter(room);
  const socket = capturingSocket();
  const reconnector = room.handleSocketConnect({ socket, clientId: 'reconnector', permissions: 'readwrite' });
  for (const frame of work.build) room.handleSocketMessage(writer, frame);
  const built = handle.clock();
  const problem = buildProblem(built, writerSocket.closed, work);
  for (const frame of work.changes) room.handleSocketMessage(writer, frame);
  return { impl, room, dispose: handle.dispose, built, reconnector, socket, problem };
}

/** Sends `frame` on the reconnect session and returns the time taken; the reply lands in `target.socket.frames`. */
function reconnectOnce(target: BuiltRoom, frame: string): number {
  const { socket } = target;
  socket.frames.length = 0;
  socket.armed = true;
  const elapsed = timeIt(() => target.room.handleSocketMessage(target.reconnector, frame));
  socket.armed = false;
  return elapsed;
}

/**
 * Times one operation on every room, interleaved. `prepare` checks a room
 * before and after the measured runs and returns the timed operation, or
 * (as a string) why it cannot be measured.
 */
function measureOn(
  targets: readonly BuiltRoom[],
  options: SampleOptions,
  prepare: (target: BuiltRoom) => { run: () => number; check: () => string | null } | string,
): Record<ImplId, Measurement> {
  const results = {} as Record<ImplId, Measurement>;
  const ready: { target: BuiltRoom; run: () => number; check: () => string | null }[] = [];
  for (const target of targets) {
    try {
      const prepared = target.problem ?? prepare(target);
      if (typeof prepared === 'string') {
        results[target.impl.id] = notAvailable(prepared);
        continue;
      }
      const problem = prepared.check();
      if (problem) results[target.impl.id] = notAvailable(problem);
      else ready.push({ target, ...prepared });
    } catch (error) {
      results[target.impl.id] = notAvailable(`threw ${String(error)}`);
    }
  }
  forceGc();
  const samples = sampleInterleaved(
    ready.map(({ run }) => run),
    options,
  );
  ready.forEach(({ target, check }, index) => {
    const after = check(); // the last measured state must still be right
    const summary = samples[index] as Samples;
    results[target.impl.id] = after
      ? notAvailable(`after repeating: ${after}`)
      : measured(summary.median, summary);
  });
  for (const target of targets) target.socket.frames.length = 0;
  return results;
}

interface SizeResult {
  heap: Record<ImplId, Measurement>;
  buildMs: Record<ImplId, number>;
  recent: Record<ImplId, Measurement>;
  full: Record<ImplId, Measurement>;
  snapshot: Record<ImplId, Measurement>;
  recentReplyKeys: Record<ImplId, number | null>;
}

function replyKeyCount(frames: readonly string[]): number | null {
  const reply = frames.find((frame) => frame.startsWith('{"type":"patch"'));
  if (!reply) return null;
  const patches =
    (JSON.parse(reply) as { documentPatches?: Record<string, unknown>[] }).documentPatches ?? [];
  return patches.reduce((sum, patch) => sum + Object.keys(patch).length, 0);
}

function measureSize(work: SizeWorkload): SizeResult {
  const heap = {} as Record<ImplId, Measurement>;
  const buildMs = {} as Record<ImplId, number>;
  for (const impl of IMPLS) {
    log(`  ${impl.id}: heap while building ${formatNumber(work.size)} shapes...`);
    const result = measureHeap(impl, work);
    heap[impl.id] = result.heap;
    buildMs[impl.id] = result.buildMs;
  }
  forceGc();
  log('  both: build, then reconnects and snapshots, interleaved...');
  const targets = IMPLS.map((impl) => buildRoom(impl, work));
  const recentReplyKeys = { ours: null, published: null } as Record<ImplId, number | null>;

  const recentFrame = (target: BuiltRoom) => reconnectFrame(target.built);
  const recent = measureOn(targets, RECENT_RECONNECT, (target) => {
    const frame = recentFrame(target);
    return {
      run: () => reconnectOnce(target, frame),
      check: () => {
        reconnectOnce(target, frame);
        recentReplyKeys[target.impl.id] = replyKeyCount(target.socket.frames);
        return checkReconnectReply(target.socket.frames, { changed: work.changed });
      },
    };
  });

  const fullFrame = reconnectFrame(0);
  const full = measureOn(targets, FULL_RECONNECT, (target) => ({
    run: () => reconnectOnce(target, fullFrame),
    check: () => {
      reconnectOnce(target, fullFrame);
      return checkReconnectReply(target.socket.frames, { keyCount: work.size });
    },
  }));

  const expectedClock = work.build.length + CHANGED_KEYS;
  const snapshot = measureOn(targets, SNAPSHOT, (target) => ({
    run: () => timeIt(() => target.room.getSnapshot()),
    check: () => {
      const { state, timestamp } = target.room.getSnapshot();
      const keys = Object.keys(state).length;
      if (keys !== work.size) return `getSnapshot() holds ${keys} keys, expected ${work.size}`;
      if (timestamp !== expectedClock)
        return `getSnapshot().timestamp is ${timestamp}, expected ${expectedClock}`;
      return null;
    },
  }));

  for (const target of targets) target.dispose();
  return { heap, buildMs, recent, full, snapshot, recentReplyKeys };
}

function timeRow(metric: string, results: Record<ImplId, Measurement>): Row {
  return { metric, better: 'lower', format: formatMs, words: ['faster', 'slower'], results };
}

function sampleDetails(metric: string, results: Record<ImplId, Measurement>): string[][] {
  return IMPLS.map((impl) => {
    const result = results[impl.id];
    if (!result.ok || !result.samples) return [metric, impl.id, '-', 'n/a', '-', '-'];
    const { samples } = result;
    return [
      metric,
      impl.id,
      String(samples.reps),
      formatMs(samples.median),
      formatMs(samples.min),
      formatMs(samples.max),
    ];
  });
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

function cell(result: Measurement, format: (value: number) => string): string {
  return result.ok ? format(result.value) : 'n/a';
}

function verdict(row: Row): { ratio: string; verdict: string } {
  const ours = row.results.ours;
  const published = row.results.published;
  if (!ours.ok || !published.ok || published.value === 0) return { ratio: 'n/a', verdict: 'n/a' };
  const ratio = ours.value / published.value;
  const factor = row.better === 'higher' ? ratio : 1 / ratio;
  const [better, worse] = row.words;
  const text =
    factor >= 1 ? `ours ${formatFactor(factor)} ${better}` : `ours ${formatFactor(1 / factor)} ${worse}`;
  return { ratio: formatRatio(ratio), verdict: text };
}

function formatFactor(factor: number): string {
  if (factor >= 100) return `${formatNumber(factor)}x`;
  if (factor >= 10) return `${factor.toFixed(1)}x`;
  return `${factor.toFixed(2)}x`;
}

function reasons(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    for (const impl of IMPLS) {
      const result = row.results[impl.id];
      if (!result.ok) lines.push(`n/a for ${impl.id}, "${row.metric}": ${result.reason}`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (!canForceGc())
    log('warning: global.gc is not available (run node with --expose-gc); heap rows will be n/a');
  const rows: Row[] = [];
  const details: string[][] = [];

  const throughput = benchThroughput();
  rows.push(throughput.row);
  details.push(...throughput.details);

  const bySize = new Map<number, SizeResult>();
  for (const size of SIZES) {
    log(`[2/2] room of ${formatNumber(size)} shapes: generating frames...`);
    bySize.set(size, measureSize(sizeWorkload(size)));
    forceGc();
  }
  const pick = (size: number, field: 'recent' | 'full' | 'snapshot' | 'heap'): Record<ImplId, Measurement> =>
    (bySize.get(size) as SizeResult)[field];
  for (const size of SIZES) {
    const metric = `Recent reconnect (${CHANGED_KEYS} changes), N=${formatNumber(size)}`;
    rows.push(timeRow(metric, pick(size, 'recent')));
    details.push(...sampleDetails(metric, pick(size, 'recent')));
  }
  for (const size of SIZES) {
    const metric = `Full reconnect (lastTimestamp 0), N=${formatNumber(size)}`;
    rows.push(timeRow(metric, pick(size, 'full')));
    details.push(...sampleDetails(metric, pick(size, 'full')));
  }
  for (const size of SIZES) {
    const metric = `getSnapshot(), N=${formatNumber(size)}`;
    rows.push(timeRow(metric, pick(size, 'snapshot')));
    details.push(...sampleDetails(metric, pick(size, 'snapshot')));
  }
  for (const size of SIZES) {
    rows.push({
      metric: `Heap per component (bytes), N=${formatNumber(size)}${size === HEAP_SIZE ? '' : ' (extra)'}`,
      better: 'lower',
      format: (value) => formatNumber(value),
      words: ['smaller', 'larger'],
      results: pick(size, 'heap'),
    });
  }

  const align: Align[] = ['left', 'right', 'right', 'right', 'left', 'left'];
  const table = markdownTable(
    ['Metric', 'ours', 'published', 'ours/published', 'better is', 'verdict'],
    rows.map((row) => {
      const { ratio, verdict: text } = verdict(row);
      return [
        row.metric,
        cell(row.results.ours, row.format),
        cell(row.results.published, row.format),
        ratio,
        row.better === 'higher' ? 'higher' : 'lower',
        text,
      ];
    }),
    align,
  );
  const detailTable = markdownTable(['Metric', 'impl', 'reps', 'median', 'min', 'max'], details, [
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
  ]);

  const targets: string[] = [];
  const recent100k = pick(HEAP_SIZE, 'recent');
  targets.push(
    recent100k.ours.ok
      ? `- Recent reconnect < 1 ms at N=${formatNumber(HEAP_SIZE)}: ${recent100k.ours.value < 1 ? 'MET' : 'NOT MET'} ` +
          `(ours ${formatMs(recent100k.ours.value)}, published ${cell(recent100k.published, formatMs)})`
      : `- Recent reconnect < 1 ms at N=${formatNumber(HEAP_SIZE)}: NOT MEASURED (${recent100k.ours.reason})`,
  );
  const tp = throughput.row.results;
  targets.push(
    tp.ours.ok && tp.published.ok
      ? `- Patch apply at least as fast as published: ${tp.ours.value >= tp.published.value ? 'MET' : 'NOT MET'} ` +
          `(ours ${formatNumber(tp.ours.value)} frames/s, published ${formatNumber(tp.published.value)} frames/s, ` +
          `ratio of medians ${formatRatio(tp.ours.value / tp.published.value)}, median of per-round ratios ` +
          `${throughput.pairedRatio === null ? 'n/a' : formatRatio(throughput.pairedRatio)})`
      : '- Patch apply at least as fast as published: NOT MEASURED (see n/a reasons)',
  );

  for (const size of SIZES) {
    const results = bySize.get(size) as SizeResult;
    notes.push(
      `N=${formatNumber(size)}: built from ${formatNumber(size / BUILD_PER_FRAME)} frames of ${formatNumber(BUILD_PER_FRAME)} ` +
        `new 8-field shapes (build took ${formatMs(results.buildMs.ours)} in ours, ${formatMs(results.buildMs.published)} in published), ` +
        `then ${CHANGED_KEYS} frames changing one field each; the recent reconnect asks for everything after the clock before ` +
        `those ${CHANGED_KEYS} (reply keys: ours ${results.recentReplyKeys.ours ?? 'n/a'}, published ` +
        `${results.recentReplyKeys.published ?? 'n/a'}). Every reply is parsed and checked before and after the ` +
        'measured repetitions; the two rooms are measured interleaved, run by run.',
    );
  }
  notes.push(
    'Timings include JSON parsing of the incoming frame and JSON serialization of the reply, as a real socket would need. ' +
      'Heap per component = (heapUsed after building - heapUsed before) / N, each after a forced full GC, in a fresh room ' +
      'with the other implementation dropped (rooms for the timings are built again afterwards); the pre-serialized frames exist before the first reading and are not counted.',
    'Configuration: ours runs with its per-session rate limits raised (its defaults, 100 frames/s with a burst of 300, ' +
      'would close the writer about 300 frames into the stream, SPEC B4; the token buckets still run); the published ' +
      'server runs with `new Room({})`, which has no such limits. Everything else is default.',
  );

  const elapsed = (performance.now() - started) / 1000;
  const cpus = os.cpus();
  const report = [
    '# Core benchmark: ours vs published',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Node: ${process.version} (${process.platform}/${process.arch})`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'} x ${cpus.length}`,
    `- ours: ${OURS.label}, built from this workspace; published: ${PUBLISHED.label}`,
    `- Run time: ${elapsed.toFixed(1)} s; 1-minute load average ${loadAtStart.toFixed(2)} at start, ` +
      `${(os.loadavg()[0] ?? 0).toFixed(2)} at end (other processes on the machine add noise)`,
    '',
    'ours/published is the ratio of the two numbers; "better is" says which direction wins for that row.',
    '',
    table,
    '',
    '## Targets',
    '',
    ...targets,
    '',
    '## Spread',
    '',
    detailTable,
    '',
    '## Notes',
    '',
    ...notes.map((note) => `- ${note}`),
    ...reasons(rows).map((line) => `- ${line}`),
    '',
  ].join('\n');

  process.stdout.write(`\n${report}`);
  const outDir = new URL('./results/', import.meta.url);
  await mkdir(outDir, { recursive: true });
  const outFile = new URL('core.md', outDir);
  await writeFile(outFile, report);
  log(`\nwritten to ${outFile.pathname}`);
}

await main();
