/**
 * Process-level harness for the runnable server: spawns the built
 * `canvas-store-server` command (dist/server/cli.js) on a loopback port,
 * collects its JSON log lines, talks to it over HTTP and raw `ws` clients
 * speaking wire protocol 2, and cleans every child process, client and temp
 * directory up in {@link cleanup} (call it in afterEach).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClientOptions, type RawData, WebSocket } from 'ws';
import { OPTION_SPECS } from '../../src/server/config/option-specs.js';

/** The built command. `npm test` builds before running vitest. */
export const CLI = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));
/** Generous bound for every wait: polls and events, never a timing assertion. */
const WAIT_MS = 20_000;

export type Frame = Record<string, unknown>;
export type Patch = Record<string, Record<string, unknown>>;

const children = new Set<ChildProcess>();
const clients = new Set<WebSocket>();
const tempDirs = new Set<string>();

function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.once('exit', killChildren);

/** A fresh temporary directory, removed by {@link cleanup}. */
export function tempDir(prefix = 'canvas-process-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Terminates every client, SIGKILLs every server still running (awaiting its exit) and removes temp dirs. */
export async function cleanup(): Promise<void> {
  for (const ws of clients) ws.terminate();
  clients.clear();
  const running = [...children];
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** The environment of the test process without any variable the server reads. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const spec of OPTION_SPECS) delete env[spec.env];
  return { ...env, ...extra };
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves once the child exited and its stdout and stderr were read to the end ('close', not 'exit'). */
function track(child: ChildProcess): Promise<Exit> {
  children.add(child);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
}

/** Runs the command to completion (for configuration errors and --help). */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), cwd: tempDir() });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += String(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += String(chunk);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
  const exit = await track(child);
  clearTimeout(timer);
  return { ...exit, stdout, stderr };
}

export interface StartOptions {
  /** Flags after the default `--port 0 --host 127.0.0.1`. */
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Pass false to omit `--port 0 --host 127.0.0.1` (configure them through env instead). */
  loopbackFlags?: boolean;
  /** Node flags before the command (for example `--expose-gc`, `--import <preload>`). */
  nodeArgs?: string[];
  /** Open an IPC channel to the child (for a preloaded probe that answers messages). */
  ipc?: boolean;
}

/** One run of the server command. */
export class ServerProcess {
  /** Every stdout line, in order. */
  readonly lines: string[] = [];
  stderr = '';
  port = 0;
  private constructor(
    readonly child: ChildProcess,
    readonly exited: Promise<Exit>,
  ) {}

  static async start(options: StartOptions = {}): Promise<ServerProcess> {
    const loopback = options.loopbackFlags === false ? [] : ['--port', '0', '--host', '127.0.0.1'];
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), CLI, ...loopback, ...(options.args ?? [])],
      {
        env: cleanEnv(options.env),
        cwd: options.cwd ?? tempDir(),
        stdio: options.ipc ? ['pipe', 'pipe', 'pipe', 'ipc'] : 'pipe',
      },
    );
    const server = new ServerProcess(child, track(child));
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (partial + String(chunk)).split('\n');
      partial = parts.pop() ?? '';
      server.lines.push(...parts);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      server.stderr += String(chunk);
    });
    let exited = false;
    void server.exited.then(() => {
      exited = true;
    });
    const listening = await waitUntil('the listening line', () => {
      if (exited) {
        throw new Error(`server exited before listening:\n${server.lines.join('\n')}\n${server.stderr}`);
      }
      return server.logs().find((line) => line.msg === 'canvas-store-server listening');
    });
    server.port = listening.port as number;
    return server;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The stdout lines parsed as JSON (throws on a line that is not). */
  logs(): Frame[] {
    return this.lines.filter((line) => line !== '').map((line) => JSON.parse(line) as Frame);
  }

  url(roomId: string, clientId: string, token = 'test-token'): string {
    return `ws://127.0.0.1:${this.port}/?${new URLSearchParams({ roomId, clientId, token })}`;
  }

  /** Connects a raw wire client to a room. */
  connect(
    roomId: string,
    clientId: string,
    options?: ClientOptions & { token?: string },
  ): Promise<WireClient> {
    return WireClient.connect(this.url(roomId, clientId, options?.token), options);
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`);
    return { status: response.status, text: await response.text() };
  }

  async metrics(): Promise<Sample[]> {
    const { status, text } = await this.get('/metrics');
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
    return parseMetrics(text);
  }

  /** Number of open file descriptors of the server process, from /proc. */
  openFds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** Resident set size of the server process, from /proc. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!match) throw new Error('no VmRSS in /proc status');
    return Number(match[1]) * 1024;
  }

  /** Sends a signal and resolves with the exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.child.kill(signal);
    return this.exited;
  }
}

/** One Prometheus sample. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (samples only). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the sample named `name` whose labels include `labels`, if any. */
export function metric(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )?.value;
}

/** A raw `ws` client: records every frame it receives and how the socket closed. */
export class WireClient {
  readonly frames: Frame[] = [];
  /** Set once the socket closed. */
  closeInfo: { code: number; reason: string } | undefined;
  private nextMessageId = 0;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: String(reason) };
      clients.delete(ws);
      this.notify();
    });
    ws.on('error', () => {});
  }

  /** Opens a socket; resolves once it is open, rejects on an HTTP refusal or error. */
  static connect(url: string, options?: ClientOptions): Promise<WireClient> {
    const ws = new WebSocket(url, options);
    clients.add(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WireClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(
          Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode }),
        );
      });
      ws.once('error', reject);
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves when `check` returns a value; re-checked on every frame and on close. */
  waitFor<T>(what: string, check: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = (error: Error | null, value?: T) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (error) reject(error);
        else resolve(value as T);
      };
      const listener = () => {
        const value = check();
        if (value !== undefined) return finish(null, value);
        if (this.closeInfo && this.ws.readyState === WebSocket.CLOSED) {
          const frames = JSON.stringify(this.frames.slice(-5));
          finish(new Error(`closed (${JSON.stringify(this.closeInfo)}) before ${what}; last ${frames}`));
        }
      };
      const timer = setTimeout(
        () =>
          finish(new Error(`timed out waiting for ${what}; last ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      );
      this.listeners.add(listener);
      listener();
    });
  }

  /** The first frame from index `from` on that matches. */
  waitForFrame(what: string, match: (frame: Frame) => boolean, from = 0): Promise<Frame> {
    return this.waitFor(what, () => this.frames.slice(from).find(match));
  }

  /** Resolves with the close code and reason (whenever the socket closed). */
  closed(): Promise<{ code: number; reason: string }> {
    return this.waitFor('the close', () => this.closeInfo, WAIT_MS) as Promise<{
      code: number;
      reason: string;
    }>;
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends `reconnect` and resolves with its reply patch (if any) and `synced`. */
  async sync(lastTimestamp = 0): Promise<{ reply: Frame | undefined; synced: Frame }> {
    const from = this.frames.length;
    this.send({ type: 'reconnect', lastTimestamp, protocolVersion: 2 });
    const synced = await this.waitForFrame('synced', (f) => f.type === 'synced', from);
    const reply = this.frames
      .slice(from, this.frames.indexOf(synced))
      // A new session may first get the others' ephemeral state (E2), also from clientId '':
      // the reconnect reply is the one carrying document patches.
      .find((f) => f.type === 'patch' && f.clientId === '' && f.documentPatches !== undefined);
    return { reply, synced };
  }

  /** Sends a patch frame without waiting; returns its messageId. */
  sendPatch(documentPatches: Patch[], ephemeralPatches?: Patch[]): string {
    const messageId = `m${this.nextMessageId++}`;
    const frame: Frame = { type: 'patch', messageId, documentPatches };
    if (ephemeralPatches) frame.ephemeralPatches = ephemeralPatches;
    this.send(frame);
    return messageId;
  }

  /** Sends a patch frame and resolves with its ack. */
  write(documentPatches: Patch[], ephemeralPatches?: Patch[]): Promise<Frame> {
    const from = this.frames.length;
    const messageId = this.sendPatch(documentPatches, ephemeralPatches);
    // Only frames after the send can be its ack: do not rescan the whole log on every frame.
    return this.waitForFrame(`ack ${messageId}`, (f) => f.type === 'ack' && f.messageId === messageId, from);
  }

  /** Frames of `type` received so far. */
  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  close(code?: number): void {
    this.ws.close(code);
  }
}

/** The document patches of a frame merged into one (empty when it has none). */
export function documentOf(frame: Frame | undefined): Patch {
  const merged: Patch = {};
  for (const patch of (frame?.documentPatches as Patch[] | undefined) ?? []) {
    // defineProperty, not assignment: an own `__proto__` key must show up, not vanish into the prototype.
    for (const [key, value] of Object.entries(patch)) {
      Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return merged;
}

/** Reads a room as a fresh client (reconnect from 0) and returns its reply's document state. */
export async function readRoom(server: ServerProcess, roomId: string): Promise<Patch> {
  const reader = await server.connect(roomId, `reader-${Math.random().toString(36).slice(2)}`);
  const { reply } = await reader.sync(0);
  reader.close();
  return documentOf(reply);
}
