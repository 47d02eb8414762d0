/**
 * Shared pieces of the abuse suites (issue 11): raw connections from chosen
 * loopback addresses (127.0.0.0/8 all reach the server, so each address is a
 * different principal), an event-loop delay sampler that polls `/healthz`
 * while an attack runs, and where each suite records its figures
 * (`test/abuse/results/<suite>.json`, gitignored). Figures are recorded, never
 * compared with timing thresholds; assertions use counts and bounds that
 * follow from the configured limits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type ServerProcess, WireClient } from '../server-process.js';
import { HealthzPoller } from './healthz-poller.js';

const RESULTS_DIR = fileURLToPath(new URL('../../abuse/results/', import.meta.url));

/** Writes what an attack measured. */
export function recordAbuseFigures(suite: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const entry = { suite, finishedAt: new Date().toISOString(), figures };
  writeFileSync(`${RESULTS_DIR}${suite}.json`, `${JSON.stringify(entry, null, 2)}\n`);
}

/** How a connection attempt ended: open, refused over HTTP, or closed with a code after the upgrade. */
type Outcome = { open: WireClient } | { status: number } | { code: number };

/** Options of one attacker or bystander connection. */
interface ConnectFrom {
  /** Source address in 127.0.0.0/8; default 127.0.0.1. */
  from?: string;
  token?: string;
  origin?: string;
}

/** Connects, syncs, and says how it went (a refusal is a result, not an error). */
export async function attempt(
  server: ServerProcess,
  roomId: string,
  clientId: string,
  options: ConnectFrom = {},
): Promise<Outcome> {
  let client: WireClient;
  try {
    client = await WireClient.connect(server.url(roomId, clientId, options.token ?? 'dev'), {
      localAddress: options.from ?? '127.0.0.1',
      headers: options.origin ? { origin: options.origin } : {},
    });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== undefined) return { status };
    throw error;
  }
  try {
    await client.sync(0);
    return { open: client };
  } catch {
    const closed = await client.closed();
    return { code: closed.code };
  }
}

/** The status line and headers the server answers an upgrade request with (raw, no WebSocket client). */
export function rawUpgrade(
  port: number,
  path: string,
  from = '127.0.0.1',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      localAddress: from,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, headers: res.headers });
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP request from a chosen source address. */
export function httpFrom(
  port: number,
  path: string,
  options: { from?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        localAddress: options.from ?? '127.0.0.1',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += String(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A raw TCP socket that sends the start of an upgrade request and never finishes it. */
export function halfOpenSocket(
  port: number,
  from = '127.0.0.1',
): Promise<{ socket: Socket; answer: string }> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port, localAddress: from });
    const state = { socket, answer: '' };
    socket.on('data', (chunk: Buffer) => {
      state.answer += String(chunk);
    });
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write('GET /?roomId=r&clientId=c&token=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
      resolve(state);
    });
  });
}

/**
 * Polls `/healthz` back to back while an attack runs and keeps the slowest
 * answer: how long the server's event loop kept a bystander waiting.
 */
export class HealthzSampler {
  private readonly poller: HealthzPoller;

  constructor(port: number, from = '127.0.0.9') {
    this.poller = new HealthzPoller(() => httpFrom(port, '/healthz', { from }), {
      pauseMs: 20,
      stopOnError: false,
    });
  }

  /** Stops polling; resolves with the slowest answer (ms) and the number of samples. */
  async stop(): Promise<{ worstHealthzMs: number; healthzSamples: number }> {
    await this.poller.stop();
    return { worstHealthzMs: Math.round(this.poller.worstMs * 10) / 10, healthzSamples: this.poller.samples };
  }
}

/** Bytes as MiB with one decimal, for figures. */
export function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
