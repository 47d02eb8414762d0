/**
 * One run of the big-room benchmark: one server variant, one room size.
 * Join storm (every client joins within the window), then movers and writers
 * send; after a warm-up, a measured window sampled every `sampleMs`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { clockTicksPerSecond, mainThreadSchedstat, processCpuMicros } from '../server/proc.js';
import { type BigRoomConfig, roles, shareClients, type VariantId } from './config.js';
import type { WorkerSample } from './ipc.js';
import { startVariant, stopVariant, Worker } from './processes.js';
import { kernelQueuedBytes, lastStats, rssBytes } from './server-sampler.js';
import { concat, keepsUp, percentile, type Sample, type Trend } from './stats.js';

/** Probe clients per worker (each records the delay of every cursor update it receives). */
const PROBES_PER_WORKER = 8;
const STATS_MS = 250;

/** What one variant did in one room size. */
export interface RunResult {
  variant: VariantId;
  size: number;
  movers: number;
  writers: number;
  /** `--presence-tick-ms` passed to our server (null: none passed / not ours). */
  presenceTickMs: number | null;
  join: {
    stormMs: number;
    p50Ms: number;
    p99Ms: number;
    failures: number;
    failureSamples: string[];
    serverCpuMs: number;
  };
  rssBeforeBytes: number;
  rssAfterJoinBytes: number;
  rssPerSessionBytes: number;
  windowMs: number;
  cursorsSentPerSec: number;
  cursorUpdatesPerSec: number;
  /** Cursor updates delivered / (sent x other clients): 1 when every move reaches everyone. */
  deliveredShare: number;
  shapeDeliveriesPerSec: number;
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Server CPU time / window (1 = one core busy). */
  serverCpuShare: number;
  /** Share of the window the server's main thread was runnable but waiting for a CPU (the machine is shared). */
  serverWaitShare: number;
  /** Mean 1-minute load average over the samples. */
  loadavg: number;
  serverCpuUsPerUpdate: number;
  workersCpuShare: number;
  lateTicks: number;
  backlog: Trend;
  delayTrend: Trend;
  rssTrend: Trend;
  keepsUp: boolean;
  closes: Record<string, number>;
  /** Our server's canvas_presence_* metrics at the end (empty for the published server). */
  presenceMetrics: Record<string, number>;
  samples: Sample[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function sampleAll(workers: Worker[]): Promise<WorkerSample[]> {
  for (const worker of workers) worker.send({ type: 'sample' });
  return Promise.all(workers.map((worker) => worker.next('sample', 60_000)));
}

async function presenceMetrics(port: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
    for (const line of (await response.text()).split('\n')) {
      const match = /^(canvas_presence_\w+)(?:\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line);
      if (match?.[1] && match[2]) out[match[1]] = (out[match[1]] ?? 0) + Number(match[2]);
    }
  } catch {
    // A server too far behind may not answer; the metrics are extra information only.
  }
  return out;
}

function mergeCloses(samples: readonly WorkerSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of samples)
    for (const [code, n] of Object.entries(sample.closes)) out[code] = (out[code] ?? 0) + n;
  return out;
}

/** Runs one variant at one room size and returns what it measured. */
export async function runVariant(
  variant: VariantId,
  size: number,
  config: BigRoomConfig,
  presenceTickMs: number | undefined,
  log: (line: string) => void,
): Promise<RunResult> {
  const dir = await mkdtemp(join(os.tmpdir(), `bigroom-${variant}-`));
  const statsFile = join(dir, 'stats.jsonl');
  const ticks = clockTicksPerSecond();
  const server = await startVariant(variant, {
    dataDir: join(dir, 'data'),
    statsFile,
    statsMs: STATS_MS,
    ...(presenceTickMs === undefined ? {} : { presenceTickMs }),
  });
  const shares = shareClients(size, config.workers);
  const workers = shares.map(() => new Worker());
  try {
    const counts = roles(size, config);
    const roomId = `bigroom-${size}-${Date.now().toString(36)}`;
    shares.forEach((share, i) => {
      workers[i]?.send({
        type: 'setup',
        url: `ws://127.0.0.1:${server.port}`,
        roomId,
        size,
        ...share,
        ...counts,
        cursorHz: config.cursorHz,
        writeHz: config.writeHz,
        probes: PROBES_PER_WORKER,
      });
    });
    await Promise.all(workers.map((worker) => worker.next('ready', 30_000)));
    await sleep(2 * STATS_MS);
    const rssBeforeBytes = rssBytes(server.pid);

    // The join storm. Client 0 first, alone: the published RoomManager gives concurrent
    // first opens of one room separate Room objects, which would split the room.
    const cpuBeforeJoin = processCpuMicros(server.pid, ticks);
    const stormStart = performance.now();
    const first = workers[0] as Worker;
    first.send({ type: 'join', indices: [0], withinMs: 0 });
    const firstJoin = await first.next('joined', 60_000);
    shares.forEach((share, i) => {
      const indices = Array.from({ length: share.count }, (_, k) => share.first + k).filter(
        (index) => index !== 0,
      );
      workers[i]?.send({ type: 'join', indices, withinMs: config.joinStormMs });
    });
    const joins = [
      firstJoin,
      ...(await Promise.all(workers.map((worker) => worker.next('joined', config.joinStormMs + 120_000)))),
    ];
    const stormMs = performance.now() - stormStart;
    const cpuAfterJoin = processCpuMicros(server.pid, ticks);
    const joinMs = concat(joins.map((j) => j.joinMs)).filter((value) => Number.isFinite(value));
    const failures = joins.flatMap((j) => j.failures);
    const failed = joins.reduce((n, j) => n + j.joinMs.filter((value) => Number.isNaN(value)).length, 0);
    log(
      `  joined ${joinMs.length}/${size} in ${(stormMs / 1000).toFixed(1)} s (p99 ${percentile(joinMs, 0.99).toFixed(0)} ms)`,
    );
    await sleep(2 * STATS_MS + 500);
    const rssAfterJoinBytes = rssBytes(server.pid);

    // Load: warm-up, then the measured window, sampled throughout.
    for (const worker of workers) worker.send({ type: 'run' });
    const runStart = performance.now();
    const measureStart = runStart + config.warmupMs;
    const measureEnd = measureStart + config.measureMs;
    await sampleAll(workers);
    const samples: Sample[] = [];
    const windowSamples: WorkerSample[] = [];
    let cpuStart = processCpuMicros(server.pid, ticks);
    let schedStart = mainThreadSchedstat(server.pid);
    let workerCpuStart: number[] = [];
    let workerCpuEnd: number[] = [];
    let last = performance.now();
    let measuring = false;
    let windowStart = 0;
    for (;;) {
      const target = Math.min(last + config.sampleMs, measuring ? measureEnd : measureStart);
      await sleep(Math.max(0, target - performance.now()));
      const worker = await sampleAll(workers);
      const now = performance.now();
      const stats = lastStats(statsFile);
      const delays = concat(worker.map((w) => w.delays));
      const updates = worker.reduce((n, w) => n + w.cursorUpdates, 0);
      samples.push({
        t: (now - measureStart) / 1000,
        serverBufferedBytes: stats?.bufferedBytes ?? 0,
        kernelQueuedBytes: kernelQueuedBytes(server.port),
        serverRssBytes: rssBytes(server.pid),
        delayP50Ms: percentile(delays, 0.5),
        delayP99Ms: percentile(delays, 0.99),
        cursorUpdatesPerSec: (updates * 1000) / (now - last),
        loadavg: os.loadavg()[0] ?? 0,
      });
      last = now;
      if (!measuring) {
        if (now >= measureStart - 1) {
          // The window starts here: counters so far belong to the warm-up.
          measuring = true;
          windowStart = now;
          cpuStart = processCpuMicros(server.pid, ticks);
          schedStart = mainThreadSchedstat(server.pid);
          workerCpuStart = worker.map((w) => w.cpuMicros);
        }
        continue;
      }
      windowSamples.push(...worker);
      workerCpuEnd = worker.map((w) => w.cpuMicros);
      if (now >= measureEnd - 1) break;
    }
    const cpuEnd = processCpuMicros(server.pid, ticks);
    const schedEnd = mainThreadSchedstat(server.pid);
    const windowMs = last - windowStart;
    const metrics = variant === 'published' ? {} : await presenceMetrics(server.port);
    for (const worker of workers) worker.send({ type: 'stop' });
    await Promise.all(workers.map((worker) => worker.next('stopped', 30_000).catch(() => undefined)));

    const sum = (pick: (s: WorkerSample) => number) => windowSamples.reduce((n, s) => n + pick(s), 0);
    const windowDelays = concat(windowSamples.map((s) => s.delays));
    const updates = sum((s) => s.cursorUpdates);
    const sent = sum((s) => s.cursorsSent);
    const serverCpuUs = cpuEnd.user + cpuEnd.system - (cpuStart.user + cpuStart.system);
    const verdict = keepsUp(samples);
    return {
      variant,
      size,
      ...counts,
      presenceTickMs: presenceTickMs ?? null,
      join: {
        stormMs,
        p50Ms: percentile(joinMs, 0.5),
        p99Ms: percentile(joinMs, 0.99),
        failures: failed,
        failureSamples: failures.slice(0, 5),
        serverCpuMs:
          (cpuAfterJoin.user + cpuAfterJoin.system - cpuBeforeJoin.user - cpuBeforeJoin.system) / 1000,
      },
      rssBeforeBytes,
      rssAfterJoinBytes,
      rssPerSessionBytes: (rssAfterJoinBytes - rssBeforeBytes) / size,
      windowMs,
      cursorsSentPerSec: (sent * 1000) / windowMs,
      cursorUpdatesPerSec: (updates * 1000) / windowMs,
      deliveredShare: sent > 0 ? updates / (sent * (size - 1)) : Number.NaN,
      shapeDeliveriesPerSec: (sum((s) => s.shapeDeliveries) * 1000) / windowMs,
      delayP50Ms: percentile(windowDelays, 0.5),
      delayP99Ms: percentile(windowDelays, 0.99),
      delayMaxMs: percentile(windowDelays, 1),
      serverCpuShare: serverCpuUs / 1000 / windowMs,
      serverWaitShare: (schedEnd.waitNs - schedStart.waitNs) / 1e6 / windowMs,
      loadavg: samples.reduce((n, sample) => n + sample.loadavg, 0) / samples.length,
      serverCpuUsPerUpdate: updates > 0 ? serverCpuUs / updates : Number.NaN,
      workersCpuShare:
        (workerCpuEnd.reduce((n, v) => n + v, 0) - workerCpuStart.reduce((n, v) => n + v, 0)) /
        1000 /
        windowMs,
      lateTicks: sum((s) => s.lateTicks),
      backlog: verdict.backlog,
      delayTrend: verdict.delay,
      rssTrend: verdict.rss,
      keepsUp: verdict.keepsUp,
      closes: mergeCloses(windowSamples.slice(-workers.length)),
      presenceMetrics: metrics,
      samples,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await stopVariant(server);
    await rm(dir, { recursive: true, force: true });
  }
}
