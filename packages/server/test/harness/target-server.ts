/**
 * The servers a convergence schedule runs against, each a process on a fixed
 * loopback port so that a SIGKILLed server restarts where its clients
 * reconnect, over the same data:
 * - `ours`: the built `canvas-store-server` command over SQLite;
 * - `published`: `@woven-ecs/canvas-store-server@2.0.2` through the server
 *   benchmark's wrapper script (started by ./published-server.ts) with its
 *   FileStorage, saving at once (`saveThrottleMs: 0`) so that a SIGKILL loses
 *   as little as that server can, and with its room-opening race worked
 *   around (`--single-room-load`, see the script), so that this suite
 *   measures what the clients see of the document rules, not that race.
 */
import type { ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';
import { spawnPublishedServer } from './published-server.js';
import { ServerProcess, tempDir } from './server-process.js';

/** Which server implementation a target runs. */
export type ServerKind = 'ours' | 'published';

const START_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts our command on `port` over SQLite in `dataDir`, retrying while the
 * port is still held by a process just killed.
 */
export async function startOursOnPort(port: number, dataDir: string): Promise<ServerProcess> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      return await ServerProcess.start({
        loopbackFlags: false,
        args: ['--host', '127.0.0.1', '--port', String(port), '--storage', 'sqlite', '--data-dir', dataDir],
      });
    } catch (error) {
      if (!String(error).includes('EADDRINUSE') || Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** Starts the published server's wrapper on `port`; resolves once it prints its listening line. */
async function startPublishedOnPort(port: number, dataDir: string): Promise<ChildProcess> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const child = spawnPublishedServer({
      port,
      host: '127.0.0.1',
      dataDir,
      saveThrottleMs: 0,
      singleRoomLoad: true,
    });
    let output = '';
    const listening = await new Promise<boolean>((resolve) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes('"listening"')) resolve(true);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += String(chunk);
      });
      child.once('close', () => resolve(false));
    });
    if (listening) return child;
    if (!output.includes('EADDRINUSE') || Date.now() > deadline) {
      throw new Error(`the published server did not start:\n${output}`);
    }
    await sleep(100);
  }
}

/** One server of a kind on a port of its own, killable and restartable on the same data. */
export class TargetServer {
  private ours: ServerProcess | undefined;
  private published: ChildProcess | undefined;
  private readonly dataDir = tempDir('canvas-convergence-');

  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
  ) {}

  /** Starts a server of `kind` on a free port. */
  static async start(kind: ServerKind): Promise<TargetServer> {
    const target = new TargetServer(kind, await freePort());
    await target.launch();
    return target;
  }

  /** The URL clients connect to (they add the room and client query). */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  private async launch(): Promise<void> {
    if (this.kind === 'ours') this.ours = await startOursOnPort(this.port, this.dataDir);
    else this.published = await startPublishedOnPort(this.port, this.dataDir);
  }

  /** SIGKILLs the process (nothing is flushed) and starts it again on the same port and data. */
  async killAndRestart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** SIGKILLs the process and waits for it to be gone. */
  async kill(): Promise<void> {
    const ours = this.ours;
    const published = this.published;
    this.ours = undefined;
    this.published = undefined;
    if (ours) await ours.stop('SIGKILL');
    if (published && published.exitCode === null && published.signalCode === null) {
      const closed = new Promise<void>((resolve) => published.once('close', () => resolve()));
      published.kill('SIGKILL');
      await closed;
    }
  }
}
