/**
 * Processes of the big-room benchmark: the server under test (one variant,
 * with the stats preload) and the load-generator workers, all tracked so they
 * are killed when the benchmark exits however it ends.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CLI, track, WORKSPACE_ROOT } from '../server/children.js';
import { listeningPort } from '../server/proc.js';
import type { VariantId } from './config.js';
import type { FromWorker, ToWorker } from './ipc.js';

const PRELOAD = fileURLToPath(new URL('./server-stats-preload.ts', import.meta.url));
const PUBLISHED_SCRIPT = fileURLToPath(new URL('../server/published-server.ts', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** Limits of our CLI raised so that only the room's own cost is measured (one address opens every socket). */
const OURS_LIMIT_FLAGS = [
  '--frames-per-second',
  '100000',
  '--bytes-per-second',
  '1000000000',
  '--max-connections-per-address',
  '100000',
  '--max-connections-per-subject',
  '100000',
  '--max-sessions-per-room',
  '100000',
];

/** Whether the built CLI knows `--presence-tick-ms` (presence coalescing is in this build). */
export function oursHasPresenceTick(): boolean {
  const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  return help.includes('--presence-tick-ms');
}

/** Keeps the last lines a child printed, for error messages. */
function tail(child: ChildProcess): () => string {
  let lines: string[] = [];
  const push = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines = lines.slice(-40);
  };
  child.stdout?.on('data', push);
  child.stderr?.on('data', push);
  return () => lines.join('\n');
}

export interface ServerUnderTest {
  variant: VariantId;
  child: ChildProcess;
  pid: number;
  port: number;
  output: () => string;
}

export interface VariantOptions {
  dataDir: string;
  statsFile: string;
  statsMs: number;
  /** `--presence-tick-ms` for our server; undefined passes no flag (the build's default). */
  presenceTickMs?: number;
}

function argsOf(variant: VariantId, options: VariantOptions): string[] {
  const preload = ['--import', 'tsx', '--import', PRELOAD];
  if (variant === 'published') {
    return [
      ...preload,
      PUBLISHED_SCRIPT,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      options.dataDir,
    ];
  }
  return [
    ...preload,
    CLI,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--storage',
    'sqlite',
    '--data-dir',
    options.dataDir,
    '--log-level',
    'warn',
    ...OURS_LIMIT_FLAGS,
    ...(options.presenceTickMs === undefined ? [] : ['--presence-tick-ms', String(options.presenceTickMs)]),
  ];
}

/** Starts one variant on a free port (found through /proc). */
export async function startVariant(variant: VariantId, options: VariantOptions): Promise<ServerUnderTest> {
  const child = track(
    spawn(process.execPath, argsOf(variant, options), {
      cwd: WORKSPACE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        BIGROOM_STATS_FILE: options.statsFile,
        BIGROOM_STATS_MS: String(options.statsMs),
      },
    }),
  );
  const output = tail(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${variant}: server did not start`);
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${variant}: server exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    const port = listeningPort(pid);
    if (port !== null) return { variant, child, pid, port, output };
    if (performance.now() > deadline)
      throw new Error(`${variant}: server did not listen within 30 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Stops a server: SIGTERM, SIGKILL after `graceMs` (a backlogged server may never drain). */
export async function stopVariant(server: ServerUnderTest, graceMs = 5_000): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** One load-generator process, driven over IPC. */
export class Worker {
  private readonly child: ChildProcess;
  private readonly output: () => string;
  private readonly inbox: FromWorker[] = [];
  private wake: (() => void) | null = null;
  private exited = false;

  constructor() {
    this.child = track(
      fork(WORKER_SCRIPT, [], {
        cwd: WORKSPACE_ROOT,
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      }),
    );
    this.output = tail(this.child);
    this.child.on('message', (message: FromWorker) => {
      this.inbox.push(message);
      this.wake?.();
    });
    this.child.once('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }

  send(message: ToWorker): void {
    if (this.exited || !this.child.connected)
      throw new Error(`worker is gone (cannot send '${message.type}'):\n${this.output()}`);
    this.child.send(message);
  }

  /** The next message of `type` (throws on `failed`, exit or timeout). */
  async next<T extends FromWorker['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((message) => message.type === type || message.type === 'failed');
      if (index !== -1) {
        const [message] = this.inbox.splice(index, 1);
        if (message?.type === 'failed') throw new Error(`worker failed: ${message.message}`);
        return message as Extract<FromWorker, { type: T }>;
      }
      if (this.exited) throw new Error(`worker exited before '${type}':\n${this.output()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`worker: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Disconnects (the worker exits on disconnect); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
