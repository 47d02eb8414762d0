/**
 * Measurement of the server load benchmark: one server in one scenario for
 * warm-up + window, and the median of the rounds.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { LoadClient, type RunningServer, type ServerKind, startServer, stopServer } from './children.js';
import type { Snapshot } from './ipc.js';
import type { Aggregate, RunResult } from './results.js';
import { type Scenario, WARMUP_MS, WINDOW_MS } from './scenarios.js';

/** Temporary directories still to remove, also on an interrupted run. */
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed at exit if not before. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes a directory made by {@link makeTempDir}. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

const sleep = (delay: number) => new Promise<void>((resolve) => setTimeout(resolve, delay));

/** Progress goes to stderr; stdout carries the report. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** One run's result and its window. */
export interface Measured {
  result: RunResult;
  /** The measured window on the monotonic clock, µs. */
  window: { fromUs: number; toUs: number };
}

/** Starts `kind`, loads it with `scenario` for warm-up + window, stops everything. */
export async function measure(
  kind: ServerKind,
  scenario: Scenario,
  round: number,
  cpuProfDir?: string,
): Promise<Measured> {
  const dataDir = await makeTempDir(`canvas-bench-server-${kind}-`);
  let server: RunningServer | undefined;
  let load: LoadClient | undefined;
  try {
    server = await startServer(kind, cpuProfDir ? { dataDir, cpuProfDir } : { dataDir });
    load = new LoadClient();
    load.send({
      type: 'connect',
      url: `ws://127.0.0.1:${server.port}`,
      rooms: scenario.rooms,
      clientsPerRoom: scenario.clientsPerRoom,
      roomPrefix: `bench-${scenario.id}-r${round}`,
      serverPid: server.pid,
    });
    const connected = await load.next('connected', 60_000);
    load.send({ type: 'run' });
    await sleep(WARMUP_MS);
    load.send({ type: 'snapshot' });
    const start: Snapshot = await load.next('snapshot', 15_000);
    await sleep(WINDOW_MS);
    load.send({ type: 'snapshot' });
    const end: Snapshot = await load.next('snapshot', 15_000);
    load.send({ type: 'stop' });
    const stopped = await load.next('stopped', 20_000);
    await load.close();
    load = undefined;
    const exit = await stopServer(server);
    server = undefined;
    const dataBytes = await dirSize(dataDir);

    const windowMs = end.at - start.at;
    const deliveries = end.deliveries - start.deliveries;
    const acks = end.acks - start.acks;
    const serverCpuMs = (end.serverCpuMicros - start.serverCpuMicros) / 1000;
    const clientCpuMs = (end.clientCpuMicros - start.clientCpuMicros) / 1000;
    const latencies = end.latencies.slice().sort();
    const problems = [...stopped.problems];
    if (exit !== 0) problems.push(`server exit ${exit}`);
    const expectedFanout = scenario.clientsPerRoom - 1;
    if (acks > 0 && deliveries / acks < 0.9 * expectedFanout) {
      problems.push(`fan-out ${(deliveries / acks).toFixed(2)}, expected ${expectedFanout}`);
    }
    return {
      window: { fromUs: start.monotonicUs, toUs: end.monotonicUs },
      result: {
        round,
        scenario: scenario.id,
        server: kind,
        windowMs,
        deliveries,
        acks,
        serverCpuMs,
        clientCpuMs,
        deliveriesPerSec: (deliveries * 1000) / windowMs,
        acksPerSec: (acks * 1000) / windowMs,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        cpuUsPerDelivery: deliveries > 0 ? (serverCpuMs * 1000) / deliveries : Number.NaN,
        serverCpuShare: serverCpuMs / windowMs,
        clientCpuShare: clientCpuMs / windowMs,
        serverSystemShare:
          serverCpuMs > 0
            ? (end.serverSystemMicros - start.serverSystemMicros) / 1000 / serverCpuMs
            : Number.NaN,
        serverWaitShare: (end.serverMainWaitNs - start.serverMainWaitNs) / 1e6 / windowMs,
        fanout: acks > 0 ? deliveries / acks : Number.NaN,
        connectMs: connected.connectMs,
        loadavg: end.loadavg,
        dataBytes,
        exit,
        problems,
      },
    };
  } finally {
    load?.kill();
    if (server) server.child.kill('SIGKILL');
    await removeTempDir(dataDir);
  }
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median of the rounds for every metric (robust to one round disturbed by other load on the machine). */
export function aggregate(scenario: string, server: ServerKind, runs: Measured[]): Aggregate {
  const rs = runs.map((run) => run.result);
  const of = (pick: (r: RunResult) => number) => median(rs.map(pick));
  return {
    scenario,
    server,
    rounds: rs.length,
    deliveriesPerSec: of((r) => r.deliveriesPerSec),
    acksPerSec: of((r) => r.acksPerSec),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    cpuUsPerDelivery: of((r) => r.cpuUsPerDelivery),
    serverCpuShare: of((r) => r.serverCpuShare),
    clientCpuShare: of((r) => r.clientCpuShare),
    fanout: of((r) => r.fanout),
    problems: rs.flatMap((r) => r.problems.map((p) => `round ${r.round}: ${p}`)),
  };
}
