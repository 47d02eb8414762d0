/**
 * A benchmark helper process driven over IPC (a load generator): messages
 * are typed both ways, and every message it sends has a `type`; `failed`
 * carries the error that stopped it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { OutputTail, track, WORKSPACE_ROOT } from './child-processes.js';

/** What every message from an IPC child looks like; `failed` ends any wait. */
type ChildMessage = { type: string } | { type: 'failed'; message: string };

/** A forked, tracked child process: `send` to it, wait for its `next` message of a type. */
export class IpcChild<To extends { type: string }, From extends ChildMessage> {
  private readonly child: ChildProcess;
  private readonly output: OutputTail;
  private readonly inbox: From[] = [];
  private wake: (() => void) | null = null;
  private exited = false;

  /**
   * @param label names the child in errors ("worker", "load client").
   * @param script the TypeScript module to fork (run through tsx).
   */
  constructor(
    private readonly label: string,
    script: string,
  ) {
    this.child = track(
      fork(script, [], {
        cwd: WORKSPACE_ROOT,
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      }),
    );
    this.output = OutputTail.of(this.child);
    this.child.on('message', (message: From) => {
      this.inbox.push(message);
      this.wake?.();
    });
    this.child.once('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }

  /** The child's process id (0 when it did not start). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Sends a message; throws when the child is gone. */
  send(message: To): void {
    if (this.exited || !this.child.connected) {
      throw new Error(`${this.label} is gone (cannot send '${message.type}'):\n${this.output.text()}`);
    }
    this.child.send(message, (error) => {
      if (error) this.output.push(Buffer.from(`[ipc] ${error.message}\n`));
    });
  }

  /**
   * Waits for the next message of `type`, failing on a `failed` message, an
   * exit or, when `timeoutMs` is given, the timeout.
   */
  async next<T extends From['type']>(type: T, timeoutMs?: number): Promise<Extract<From, { type: T }>> {
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((message) => message.type === type || message.type === 'failed');
      if (index !== -1) {
        const [message] = this.inbox.splice(index, 1);
        if (message && 'message' in message && message.type === 'failed') {
          throw new Error(`${this.label} failed: ${message.message}`);
        }
        return message as Extract<From, { type: T }>;
      }
      if (this.exited) throw new Error(`${this.label} exited before '${type}':\n${this.output.text()}`);
      const left = deadline === undefined ? undefined : deadline - performance.now();
      if (left !== undefined && left <= 0)
        throw new Error(`${this.label}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = left === undefined ? undefined : setTimeout(resolve, left);
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

  /** Kills the child at once. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
