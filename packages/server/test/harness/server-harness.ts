/**
 * Shared helpers for tests of the runnable server: start an in-process
 * {@link CanvasStoreServer} with a partial configuration, capture its logs,
 * and drive raw `ws` clients that record every frame and the close code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { type RawData, WebSocket } from 'ws';
import {
  CanvasStoreServer,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
} from '../../src/server/index.js';

export type Frame = Record<string, unknown>;
type Patch = Record<string, Record<string, unknown>>;

/** Generous bound for every wait: waits are polls and events, never timing assertions. */
export const WAIT_MS = 10_000;

const servers = new Set<CanvasStoreServer>();
const tempDirs = new Set<string>();
const clients = new Set<WireClient>();

/** A started server and its port. */
export interface StartedServer {
  server: CanvasStoreServer;
  port: number;
}

/** Starts a server on 127.0.0.1 with memory storage and silent logs unless `config` says otherwise. */
export async function startServer(
  config: Partial<ServerConfigInput> = {},
  options: { logger?: CanvasStoreServer['logger'] } = {},
): Promise<StartedServer> {
  const parsed = parseServerConfig({
    port: 0,
    host: '127.0.0.1',
    storage: 'memory',
    logLevel: 'silent',
    serveClient: false,
    ...config,
  });
  return startConfigured(parsed, options);
}

/** Starts a server from a complete configuration (for example one `loadConfig` built). */
export async function startConfigured(
  config: ServerConfig,
  options: { logger?: CanvasStoreServer['logger'] } = {},
): Promise<StartedServer> {
  const server = new CanvasStoreServer({ config, logger: options.logger });
  servers.add(server);
  const { port } = await server.start();
  return { server, port };
}

/** Stops one server (idempotent). */
export async function stopServer(server: CanvasStoreServer): Promise<void> {
  servers.delete(server);
  await server.stop();
}

/** A fresh temporary directory, removed by {@link cleanupAll}. */
export function makeTempDir(prefix = 'css-server-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Closes every client, stops every server and removes temp dirs; call it in `afterEach`. */
export async function cleanupAll(): Promise<void> {
  for (const client of clients) client.terminate();
  clients.clear();
  const stopping = Array.from(servers, (server) => server.stop());
  servers.clear();
  await Promise.allSettled(stopping);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A pino logger at `level` whose JSON lines are collected in memory. */
export function captureLogger(level: 'debug' | 'info' | 'trace' = 'debug') {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    lines,
    /** Parsed log entries. */
    entries: (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line)),
    /** Everything logged, as one string. */
    text: (): string => lines.join(''),
  };
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | undefined | null | false,
  description: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the wall clock has passed `epochMs` (polling Date.now(), no duration is asserted). */
export async function waitForDate(epochMs: number): Promise<void> {
  await waitUntil(() => Date.now() > epochMs, `the clock to pass ${new Date(epochMs).toISOString()}`, 60_000);
}

/** Connect parameters of a raw client. */
interface ConnectParams {
  roomId: string;
  clientId: string;
  token: string;
}

/** The ws:// URL a client connects to. */
function connectUrl(port: number, params: ConnectParams): string {
  return `ws://127.0.0.1:${port}/?${new URLSearchParams({ ...params })}`;
}

/** A raw `ws` client speaking wire protocol 2, recording frames and how the socket closed. */
export class WireClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason: string | undefined;
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    clients.add(this);
    ws.on('message', (data: RawData) => this.frames.push(JSON.parse(String(data)) as Frame));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      });
    });
    ws.on('error', () => {});
  }

  /** Opens a socket (resolves once open, even if the server closes it right after). */
  static async open(port: number, params: ConnectParams): Promise<WireClient> {
    const client = new WireClient(new WebSocket(connectUrl(port, params)));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
      client.closed.then(() => reject(new Error(`closed before open (${client.closeCode})`)));
    });
    return client;
  }

  /**
   * Opens a socket and sends `reconnect` like the published client; resolves
   * once `synced` arrives. Fails if the socket closes first.
   */
  static async join(port: number, params: ConnectParams, lastTimestamp = 0): Promise<WireClient> {
    const client = await WireClient.open(port, params);
    await client.sync(lastTimestamp);
    return client;
  }

  /**
   * Opens a socket, sends `reconnect` at once (as the published client does)
   * and resolves with the close code the server refuses it with.
   */
  static async refused(port: number, params: ConnectParams): Promise<WireClient> {
    const client = new WireClient(new WebSocket(connectUrl(port, params)));
    client.ws.once('open', () => client.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
    await client.waitForClose();
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends `reconnect` and waits for the `synced` that answers it. */
  async sync(lastTimestamp = 0): Promise<Frame> {
    const from = this.frames.length;
    this.send({ type: 'reconnect', lastTimestamp, protocolVersion: 2 });
    return this.waitForFrame((f) => f.type === 'synced', 'synced', from);
  }

  /** Sends a document write and waits for its ack. */
  async write(messageId: string, documentPatches: Patch[]): Promise<Frame> {
    this.send({ type: 'patch', messageId, documentPatches });
    return this.waitForFrame((f) => f.type === 'ack' && f.messageId === messageId, `ack of ${messageId}`);
  }

  /** Waits for a frame matching `match` received at index `from` or later. */
  async waitForFrame(match: (frame: Frame) => boolean, description: string, from = 0): Promise<Frame> {
    return waitUntil(() => {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.closeCode !== undefined) {
        throw new Error(`socket closed (${this.closeCode}) while waiting for ${description}`);
      }
      return undefined;
    }, description);
  }

  /** Frames of `type` received so far. */
  framesOf(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Document broadcasts received so far (patch frames holding documentPatches). */
  documentPatches(): Frame[] {
    return this.frames.filter((f) => f.type === 'patch' && f.documentPatches !== undefined);
  }

  /** Resolves with the close code once the socket is closed. */
  waitForClose(timeoutMs = WAIT_MS * 3): Promise<number> {
    return Promise.race([
      this.closed,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error('timed out waiting for the socket to close')), timeoutMs).unref(),
      ),
    ]);
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** A write of one component with `_exists: true` plus `fields`. */
export function shape(key: string, fields: Record<string, unknown>): Patch {
  return { [key]: { _exists: true, ...fields } };
}
