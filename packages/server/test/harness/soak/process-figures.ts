/**
 * Helpers the soak test uses around the server process: plain HTTP GETs,
 * descriptor listings, the Theil-Sen slope of the heap trend, and the
 * preload that plants a leak to check the heap criterion.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { CLI } from '../server-process.js';

/** GET on the server with a fresh connection closed after the answer (no keep-alive socket to skew fd counts). */
export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** What each open descriptor of process `pid` points to (for a failure message). */
export function fdTargets(pid: number): string {
  const dir = `/proc/${pid}/fd`;
  try {
    return readdirSync(dir)
      .map((fd) => {
        try {
          return readlinkSync(`${dir}/${fd}`);
        } catch {
          return '(closed)';
        }
      })
      .join(', ');
  } catch {
    return '(process gone)';
  }
}

/**
 * Theil-Sen slope: the median of the slopes between every pair of samples.
 * Unlike least squares, a few outliers (a sample taken mid-burst) cannot tilt it.
 */
export function theilSen(xs: readonly number[], ys: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = (xs[j] as number) - (xs[i] as number);
      if (dx !== 0) slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length / 2;
  return Number.isInteger(mid)
    ? ((slopes[mid - 1] as number) + (slopes[mid] as number)) / 2
    : (slopes[Math.floor(mid)] as number);
}

/**
 * Source of a preload that plants a leak in the server (for checking that the
 * heap criterion catches one; see `CANVAS_SOAK_INJECT_LEAK` in soak.test.ts):
 * `frame:<bytes>` keeps that much JS heap per received WebSocket message,
 * `session:0` keeps every closed WebSocket object (a session map never pruned).
 */
export function leakPreloadSource(spec: string): string {
  const [kind, bytes] = spec.split(':');
  if ((kind !== 'frame' && kind !== 'session') || !Number.isFinite(Number(bytes))) {
    throw new Error(`CANVAS_SOAK_INJECT_LEAK must be frame:<bytes> or session:0, got "${spec}"`);
  }
  const wsPath = createRequire(CLI).resolve('ws');
  return `
import { createRequire } from 'node:module';
const WebSocket = createRequire(import.meta.url)(${JSON.stringify(wsPath)});
const kept = [];
globalThis.__soakLeak = kept;
const emit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (event, ...args) {
  if (${JSON.stringify(kind)} === 'frame' && event === 'message') kept.push(new Array(${Math.ceil(Number(bytes) / 8)}).fill(0));
  if (${JSON.stringify(kind)} === 'session' && event === 'close') kept.push(this);
  return emit.call(this, event, ...args);
};
`;
}
