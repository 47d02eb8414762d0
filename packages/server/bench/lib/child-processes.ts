/**
 * Child processes of the benchmarks: every child is tracked and killed when
 * the benchmark exits, whether it finishes, fails or is interrupted; servers
 * start on `--port 0` and their port is found through /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { listeningPort } from '../server/proc.js';

/** The workspace root: children run from there. */
export const WORKSPACE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** Our built server command. */
export const CLI = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));

/**
 * Our server command on a free loopback port, storing in SQLite under
 * `dataDir`, logging warnings only, with the frame and byte rates raised so a
 * benchmark measures the server rather than its rate limits.
 */
export function ourServerArgs(dataDir: string): string[] {
  return [
    ...[CLI, '--port', '0', '--host', '127.0.0.1', '--storage', 'sqlite', '--data-dir', dataDir],
    ...['--log-level', 'warn', '--frames-per-second', '100000', '--bytes-per-second', '1000000000'],
  ];
}

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

/** Registers a child to be killed when the benchmark exits. */
export function track<T extends ChildProcess>(child: T): T {
  hookExit();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Keeps the last lines a child printed, for error messages. */
export class OutputTail {
  private lines: string[] = [];

  constructor(private readonly keep = 40) {}

  /** Collects what `child` prints on stdout and stderr, and its spawn errors. */
  static of(child: ChildProcess): OutputTail {
    const output = new OutputTail();
    child.on('error', (error) => output.push(Buffer.from(`[process] ${error.message}\n`)));
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    return output;
  }

  /** Adds what the child printed, keeping the last lines only. */
  push(chunk: Buffer): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (this.lines.length > this.keep) this.lines = this.lines.slice(-this.keep);
  }

  /** The lines kept, for an error message. */
  text(): string {
    return this.lines.join('\n');
  }
}

/** A tracked server process and the port it listens on. */
export interface ListeningChild {
  child: ChildProcess;
  pid: number;
  port: number;
  output: OutputTail;
}

/** How {@link spawnListening} starts a server and waits for its port. */
export interface SpawnListeningOptions {
  /** Names the server in errors. */
  label: string;
  /** Node.js arguments (script first, or flags then the script). */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** How long the server may take to listen before it is killed and this throws. */
  timeoutMs: number;
  /** How often /proc is read for the port. */
  pollMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a Node.js server process (tracked) and resolves once it listens. */
export async function spawnListening(options: SpawnListeningOptions): Promise<ListeningChild> {
  const { label, timeoutMs } = options;
  const child = track(
    spawn(process.execPath, options.args, {
      cwd: WORKSPACE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: options.env } : {}),
    }),
  );
  const output = OutputTail.of(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label} did not start`);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}):\n${output.text()}`);
    }
    const port = listeningPort(pid);
    if (port !== null) return { child, pid, port, output };
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label} did not listen within ${timeoutMs / 1000} s:\n${output.text()}`);
    }
    await sleep(options.pollMs);
  }
}

/** Stops a child gracefully (SIGTERM; SIGKILL after `graceMs`); resolves with its exit code or signal. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? String(child.signalCode);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  return child.exitCode ?? String(child.signalCode);
}
