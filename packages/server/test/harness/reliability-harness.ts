/**
 * Shared pieces of the reliability suites (issue 6): the short/long switch,
 * where each suite records its figures, a server process with a heap probe,
 * a free fixed port (so a SIGKILLed server restarts where clients reconnect),
 * and small statistics helpers.
 *
 * `npm test` runs the short versions. `npm run test:long` sets
 * `CANVAS_TEST_LONG=1` and runs the long ones, then composes their figures
 * into `LAST-LONG-RUN.md`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ServerProcess, type StartOptions } from './server-process.js';

/** True under `npm run test:long`. */
export const LONG = process.env.CANVAS_TEST_LONG === '1';

/** `short` in `npm test`, `long` under `npm run test:long`. */
export function scaled<T>(short: T, long: T): T {
  return LONG ? long : short;
}

/** Where figures are written: `results/short` or `results/long` (gitignored; the long report is composed from it). */
const RESULTS_DIR = fileURLToPath(
  new URL(`../reliability/results/${LONG ? 'long' : 'short'}/`, import.meta.url),
);

/**
 * Records what a suite measured (load held, faults injected, frames fuzzed,
 * acked writes lost...) as `results/<mode>/<suite>.json`. The long run's
 * files become the figures of docs/reliability.md.
 */
export function recordFigures(suite: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const entry = { suite, mode: LONG ? 'long' : 'short', finishedAt: new Date().toISOString(), figures };
  writeFileSync(`${RESULTS_DIR}${suite}.json`, `${JSON.stringify(entry, null, 2)}\n`);
}

const PROBE = fileURLToPath(new URL('./process-probe.mjs', import.meta.url));

/** What the probe preloaded into the server reports (after a full GC). */
export interface ProbeReading {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  fds: number;
  /** Worst event-loop delay in the server since the previous probe (ms; `perf_hooks.monitorEventLoopDelay`). */
  loopDelayMaxMs: number;
}

/** A server process started with the heap probe. */
interface ProbedServer {
  server: ServerProcess;
  /** Runs a full GC in the server and reads its heap and descriptors. */
  probe(): Promise<ProbeReading>;
}

/** Starts the real command with `--expose-gc` and the probe preloaded over an IPC channel. */
export async function startProbedServer(options: StartOptions = {}): Promise<ProbedServer> {
  const server = await ServerProcess.start({
    ...options,
    nodeArgs: ['--expose-gc', '--import', PROBE, ...(options.nodeArgs ?? [])],
    ipc: true,
  });
  let nextId = 0;
  const probe = (): Promise<ProbeReading> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const child = server.child;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error('the server did not answer the probe'));
      }, 20_000);
      const onMessage = (message: unknown) => {
        const reply = message as { type?: string; id?: number } & ProbeReading;
        if (reply?.type !== 'probe' || reply.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(reply);
      };
      child.on('message', onMessage);
      child.send({ type: 'probe', id });
    });
  return { server, probe };
}

/** The `p`-quantile (0..1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Median of `values`. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * Least-squares slope of `ys` against `xs` (units of y per unit of x): the
 * trend of a series of samples, used to tell growth from noise.
 */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    num += dx * ((ys[i] as number) - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * True when every window's median is more than `factor` times the one before:
 * steady growth, as a leak or a backlog shows it. Noise on a shared machine
 * makes single windows jump, but not every window in a row, so this detects a
 * trend without a fixed threshold.
 */
export function growsInEveryWindow(samples: readonly number[], windows: number, factor: number): boolean {
  if (samples.length < windows * 2) return false;
  const size = Math.floor(samples.length / windows);
  const medians = Array.from({ length: windows }, (_, w) => median(samples.slice(w * size, (w + 1) * size)));
  return medians.every((value, w) => w === 0 || value > (medians[w - 1] as number) * factor);
}
