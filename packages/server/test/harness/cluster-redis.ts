/**
 * A private `redis-server` per cluster test file, on a free loopback port, so
 * a test may kill and restart Redis without harming any other test or helper.
 * Persistence is off (`--save "" --appendonly no`): a restart loses every key,
 * which is the harshest Redis restart the cluster must survive (SPEC K6).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';
import { waitUntil } from './server-process.js';

/** The Redis binary of the machine (Debian's package); CI installs the same. */
const REDIS_SERVER_BIN = process.env.CANVAS_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** True when a Redis server answers PING on `port`. */
export function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += String(chunk);
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** One private Redis server; {@link restart} brings it back on the same port. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly port: number) {}

  /** Starts a Redis server on a free port and waits until it answers PING. */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.launch();
    return redis;
  }

  /** `redis://127.0.0.1:<port>`, what the nodes get as `--redis-url`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Process id of the running server (for its CPU time in the benchmark). */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('redis-server is not running');
    return pid;
  }

  /** True while the server process runs. */
  get running(): boolean {
    return this.child !== undefined;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      REDIS_SERVER_BIN,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    running.add(child);
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    await waitUntil(`redis-server on port ${this.port}`, async () => {
      if (this.child !== child) throw new Error(`redis-server on port ${this.port} exited at start`);
      return redisAnswers(this.port);
    });
  }

  /** Kills the server (SIGKILL: no goodbye to its clients) and waits for its exit. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Starts it again on the same port (empty: persistence is off). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }
}
