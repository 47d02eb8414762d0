/** A child process (run with tsx) that talks to the benchmark over the IPC channel. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendConfig } from './backends.js';

/** Repository root: children resolve `tsx` and the workspace packages from here. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A message between the benchmark and a child: `{ type, ... }`. */
interface ChildMessage {
  type: string;
  [field: string]: unknown;
}

function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && typeof (value as ChildMessage).type === 'string';
}

export class Child {
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters: Array<{ type: string; resolve: (m: ChildMessage) => void }> = [];
  private exitError: Error | null = null;
  private failWaiters: Array<(error: Error) => void> = [];
  readonly exited: Promise<number | null>;

  private constructor(private readonly process: ChildProcess) {
    process.on('message', (message) => {
      if (!isChildMessage(message)) return;
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        waiter?.resolve(message);
      } else {
        this.inbox.push(message);
      }
    });
    this.exited = new Promise((resolve) => {
      process.on('exit', (code, signal) => {
        this.exitError = new Error(`child exited (code ${code}, signal ${signal})`);
        for (const fail of this.failWaiters) fail(this.exitError);
        this.failWaiters = [];
        resolve(code);
      });
    });
  }

  /** Starts `node [nodeArgs] --import tsx <script>` with the config as JSON in argv. */
  static start(scriptUrl: URL, config: BackendConfig, nodeArgs: readonly string[] = []): Child {
    const script = fileURLToPath(scriptUrl);
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, JSON.stringify(config)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(child);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  send(message: ChildMessage): void {
    this.process.send(message);
  }

  /** The next message of `type` (already received or future); rejects on timeout or exit. */
  next(type: string, timeoutMs: number): Promise<ChildMessage> {
    const index = this.inbox.findIndex((m) => m.type === type);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0] as ChildMessage);
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no '${type}' message from the child within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.failWaiters.push(fail);
      this.waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          this.failWaiters = this.failWaiters.filter((f) => f !== fail);
          resolve(message);
        },
      });
    });
  }

  /** Sends `request` and waits for the reply of type `replyType`. */
  request(request: ChildMessage, replyType: string, timeoutMs: number): Promise<ChildMessage> {
    const reply = this.next(replyType, timeoutMs);
    this.send(request);
    return reply;
  }

  /** Waits for the child to exit, killing it (this child only) after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.exitError) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** In a child: the parsed config from argv. */
export function childConfig(): BackendConfig {
  const raw = process.argv[2];
  if (!raw) throw new Error('missing config argument');
  return JSON.parse(raw) as BackendConfig;
}

/** In a child: sends a message to the benchmark. */
export function toParent(message: ChildMessage): void {
  if (!process.send) throw new Error('not started with an IPC channel');
  process.send(message);
}

/** In a child: calls `handler` for each message from the benchmark. */
export function onParentMessage(handler: (message: ChildMessage) => void): void {
  process.on('message', (message) => {
    if (isChildMessage(message)) handler(message);
  });
}
