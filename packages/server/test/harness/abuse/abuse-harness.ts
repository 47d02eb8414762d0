/**
 * Shared pieces of the abuse suites (issue 11, SPEC B6, B7): a server process
 * with the heap probe, samplers of its worst `/healthz` latency (our measure
 * of event-loop stalls as a bystander sees them) and of its peak RSS, and a
 * `measure` wrapper that runs one attack and reports what it cost.
 *
 * Figures are recorded, never compared to a time: the assertions of the
 * suites are memory bounds derived from the configured limits, the codes the
 * attacker gets, and bystanders being served.
 */
import type { Socket } from 'node:net';
import { recordFigures, startProbedServer } from '../reliability-harness.js';
import type { ServerProcess, StartOptions, WireClient } from '../server-process.js';
import { HealthzPoller } from './healthz-poller.js';

export const MiB = 1024 * 1024;

/** What one attack cost the server. */
export interface AttackFigures {
  /** Heap-probe RSS after a full GC, after the attack minus before (bytes). */
  rssGrowthAfterGc: number;
  /** Highest RSS seen while the attack ran minus the baseline (bytes). */
  peakRssGrowth: number;
  /** Slowest `/healthz` answer while the attack ran (ms; includes loopback and the test process). */
  worstHealthzMs: number;
  /** Worst event-loop delay inside the server while the attack ran (ms; `monitorEventLoopDelay` in the probe). */
  worstLoopDelayMs: number;
  /** True when the server process died. */
  crashed: boolean;
}

/** A probed server started with `--storage memory` and the given flags. */
export async function startAbuseServer(args: string[] = [], options: StartOptions = {}) {
  return startProbedServer({ ...options, args: ['--storage', 'memory', ...args] });
}

/**
 * Polls `/healthz` back to back (one request in flight) and `/proc` RSS every
 * few ms until stopped; reports the worst latency and the peak RSS.
 */
function startSamplers(
  server: ServerProcess,
): () => Promise<{ worstMs: number; peakRss: number; died: boolean }> {
  let peakRss = 0;
  let died = false;
  const sampleRss = () => {
    try {
      peakRss = Math.max(peakRss, server.rssBytes());
    } catch {
      died = true;
    }
  };
  const rssTimer = setInterval(sampleRss, 10);
  // `died` is also set by the RSS sampler: the poller stops once either sees the process gone.
  const health = new HealthzPoller(() => server.get('/healthz'), {
    pauseMs: 5,
    stopOnError: true,
    keepGoing: () => !died,
  });
  return async () => {
    clearInterval(rssTimer);
    sampleRss();
    await health.stop();
    return { worstMs: health.worstMs, peakRss, died: died || health.failed };
  };
}

/** True once the child process has exited. */
export function hasExited(server: ServerProcess): boolean {
  return server.child.exitCode !== null || server.child.signalCode !== null;
}

/**
 * Runs `attack` against a probed server and measures it: heap-probe RSS
 * before and after (after GC), peak RSS and worst `/healthz` while it runs.
 */
export async function measure<T>(
  probed: Awaited<ReturnType<typeof startAbuseServer>>,
  attack: () => Promise<T>,
): Promise<{ figures: AttackFigures; result: T | undefined; error?: unknown }> {
  await probed.server.get('/healthz'); // warm: the first request pays for lazy setup
  const before = await probed.probe();
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the probe's own GC pause leave the loop-delay window
  const stop = startSamplers(probed.server);
  let result: T | undefined;
  let error: unknown;
  try {
    result = await attack();
  } catch (err) {
    error = err;
  }
  const sampled = await stop();
  const crashed = sampled.died || hasExited(probed.server);
  const after = crashed ? undefined : await probed.probe();
  return {
    figures: {
      rssGrowthAfterGc: after ? after.rss - before.rss : Number.NaN,
      peakRssGrowth: sampled.peakRss - before.rss,
      worstHealthzMs: Math.round(sampled.worstMs),
      worstLoopDelayMs: after ? Math.round(after.loopDelayMaxMs) : Number.NaN,
      crashed,
    },
    result,
    error,
  };
}

/** Stops `client` from reading: the kernel buffers fill and the server's unsent bytes grow. */
export function pauseReading(client: WireClient): Socket {
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  return socket;
}

/** Sends many raw frames in one TCP write (the server then handles them in one event-loop iteration). */
export function sendInOneWrite(client: WireClient, frames: string[]): void {
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  socket.cork();
  for (const frame of frames) client.ws.send(frame);
  socket.uncork();
}

/** Records one attack's figures under `results/<mode>/abuse-<name>.json`. */
export function recordAttack(name: string, figures: Record<string, unknown>): void {
  recordFigures(`abuse-${name}`, figures);
}

/** Builds a patch frame whose document (or ephemeral) patch holds `count` buffer deltas of length `len`. */
export function bufferBombFrame(
  count: number,
  len: number,
  list: 'documentPatches' | 'ephemeralPatches',
): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++)
    parts.push(`"k${i}/B":{"_exists":true,"b":{"__buf":1,"len":${len},"runs":[]}}`);
  return `{"type":"patch","messageId":"bomb","${list}":[{${parts.join(',')}}]}`;
}

/** A patch frame whose one field is `depth` arrays deep. */
export function deepFrame(depth: number): string {
  return `{"type":"patch","messageId":"deep","documentPatches":[{"e/C":{"_exists":true,"v":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
}

/** A patch frame creating `count` keys starting at `from`, in document or ephemeral patches. */
export function manyKeysFrame(
  from: number,
  count: number,
  list: 'documentPatches' | 'ephemeralPatches',
  id: string,
): string {
  const parts: string[] = [];
  for (let i = from; i < from + count; i++) parts.push(`"${id}${i}/P":{"_exists":true,"x":${i},"y":${i}}`);
  return `{"type":"patch","messageId":"${id}-${from}","${list}":[{${parts.join(',')}}]}`;
}
