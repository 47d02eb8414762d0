/**
 * Child processes of the server benchmark: the three servers and the load
 * generator. Every child is tracked and killed when the benchmark exits,
 * whether it finishes, fails or is interrupted.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { publishedServerArgs } from '../../test/harness/published-server.js';
import type { FromLoadClient, ToLoadClient } from './ipc.js';
import { listeningPort } from './proc.js';

export const WORKSPACE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));
const RELAY_SCRIPT = fileURLToPath(new URL('./relay-server.ts', import.meta.url));
const LOAD_CLIENT_SCRIPT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

export type ServerKind = 'ours' | 'published' | 'relay';

const live = new Set<ChildProcess>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

/** Kills every child still running (SIGKILL; used on exit and on errors). */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/** Registers a child to be killed when the benchmark exits (also used by bench/bigroom). */
export function track<T extends ChildProcess>(child: T): T {
  hookExit();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Keeps the last lines a child printed, for error messages. */
class OutputTail {
  private lines: string[] = [];
  constructor(private readonly keep = 40) {}
  push(chunk: Buffer): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (this.lines.length > this.keep) this.lines = this.lines.slice(-this.keep);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface RunningServer {
  kind: ServerKind;
  child: ChildProcess;
  pid: number;
  port: number;
  output: OutputTail;
}

interface ServerStartOptions {
  dataDir: string;
  /** Directory for `node --cpu-prof` output (our server only). */
  cpuProfDir?: string;
}

function serverArgs(kind: ServerKind, options: ServerStartOptions): string[] {
  switch (kind) {
    case 'ours':
      return [
        ...(options.cpuProfDir
          ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir, '--cpu-prof-interval', '500']
          : []),
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
        '--frames-per-second',
        '100000',
        '--bytes-per-second',
        '1000000000',
      ];
    case 'published':
      return publishedServerArgs({ port: 0, host: '127.0.0.1', dataDir: options.dataDir });
    case 'relay':
      return ['--import', 'tsx', RELAY_SCRIPT, '--port', '0', '--host', '127.0.0.1'];
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a server process with `--port 0` and finds its port through /proc. */
export async function startServer(kind: ServerKind, options: ServerStartOptions): Promise<RunningServer> {
  const child = track(
    spawn(process.execPath, serverArgs(kind, options), {
      cwd: WORKSPACE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = new OutputTail();
  child.on('error', (error) => output.push(Buffer.from(`[process] ${error.message}\n`)));
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${kind} server did not start`);
  const deadline = performance.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${kind} server exited (${child.exitCode ?? child.signalCode}):\n${output.text()}`);
    }
    const port = listeningPort(pid);
    if (port !== null) return { kind, child, pid, port, output };
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} server did not listen within 20 s:\n${output.text()}`);
    }
    await sleep(25);
  }
}

/** Stops a server gracefully (SIGTERM; SIGKILL after `graceMs`); resolves with its exit code. */
export async function stopServer(server: RunningServer, graceMs = 15_000): Promise<number | string> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? String(child.signalCode);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  return child.exitCode ?? String(child.signalCode);
}

/** The load generator, a child process driven over IPC. */
export class LoadClient {
  private readonly child: ChildProcess;
  private readonly output = new OutputTail();
  private readonly inbox: FromLoadClient[] = [];
  private wake: (() => void) | null = null;
  private exited = false;

  constructor() {
    this.child = track(
      fork(LOAD_CLIENT_SCRIPT, [], {
        cwd: WORKSPACE_ROOT,
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      }),
    );
    this.child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk));
    this.child.on('message', (message: FromLoadClient) => {
      this.inbox.push(message);
      this.wake?.();
    });
    this.child.once('exit', () => {
      this.exited = true;
      this.wake?.();
    });
    this.child.on('error', (error) => this.output.push(Buffer.from(`[process] ${error.message}\n`)));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(message: ToLoadClient): void {
    if (this.exited || !this.child.connected) {
      throw new Error(`load client is gone (cannot send '${message.type}'):\n${this.output.text()}`);
    }
    this.child.send(message, (error) => {
      if (error) this.output.push(Buffer.from(`[ipc] ${error.message}\n`));
    });
  }

  /** Waits for the next message of `type` (failing on a `failed` message, an exit or the timeout). */
  async next<T extends FromLoadClient['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromLoadClient, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((message) => message.type === type || message.type === 'failed');
      if (index !== -1) {
        const [message] = this.inbox.splice(index, 1);
        if (message?.type === 'failed') throw new Error(`load client failed: ${message.message}`);
        return message as Extract<FromLoadClient, { type: T }>;
      }
      if (this.exited) throw new Error(`load client exited before '${type}':\n${this.output.text()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`load client: no '${type}' within ${timeoutMs} ms`);
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

  /** Disconnects (the child exits on disconnect); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
