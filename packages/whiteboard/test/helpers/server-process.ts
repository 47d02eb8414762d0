import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../server/dist/server/cli.js', import.meta.url));
const WHITEBOARD_PAGE = fileURLToPath(new URL('../../../server/public/index.html', import.meta.url));
const INSPECTOR_PAGE = fileURLToPath(new URL('../../../server/public/inspect.html', import.meta.url));

/** How long the server may take to print that it listens, ms. */
const START_TIMEOUT_MS = 20_000;
/** How long a graceful shutdown may take before the process is killed, ms. */
const STOP_TIMEOUT_MS = 10_000;

/** Environment variables that would change what the CLI flags below ask for. */
const OVERRIDING_ENV = [
  'PORT',
  'HOST',
  'CANVAS_DATA_DIR',
  'CANVAS_STORAGE',
  'DATABASE_URL',
  'CANVAS_AUTH',
  'CANVAS_ADMIN_SECRET',
  'CANVAS_ALLOWED_ORIGINS',
  'LOG_LEVEL',
];

/** Options of {@link startServer}. */
interface ServerProcessOptions {
  /** Enables the admin API (and so the inspector) with this bearer secret (16+ characters). */
  adminSecret?: string;
}

/** A canvas-store-server CLI process serving the built whiteboard on 127.0.0.1. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly port: number;
  /** Every line the process printed (stdout and stderr), for failure messages. */
  readonly output: readonly string[];
  /** Stops the process (SIGTERM, then SIGKILL) and deletes its data directory. */
  stop(): Promise<void>;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Starts `packages/server/dist/server/cli.js` on a free port with a fresh
 * temporary data directory (SQLite storage) and resolves once it prints its
 * `canvas-store-server listening` log line (logged at info level).
 */
export async function startServer(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  for (const file of [CLI, WHITEBOARD_PAGE, INSPECTOR_PAGE]) {
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: run \`npm run build\` first (npm run test:browser does)`);
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'whiteboard-test-data-'));
  const args = [CLI, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'info'];
  if (options.adminSecret !== undefined) args.push('--admin-secret', options.adminSecret);
  const env = { ...process.env };
  for (const name of OVERRIDING_ENV) delete env[name];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];

  const stop = async (): Promise<void> => {
    if (!(await waitForExit(child, 0))) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_TIMEOUT_MS);
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const port = await new Promise<number>((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      reject(new Error(`canvas-store-server did not start: ${reason}\n${output.join('\n')}`));
    };
    const timer = setTimeout(
      () => fail(`no "listening" line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`it exited (code ${code}, signal ${signal})`));
    createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      const { msg, port } = (entry ?? {}) as { msg?: unknown; port?: unknown };
      if (msg === 'canvas-store-server listening' && typeof port === 'number') {
        clearTimeout(timer);
        resolve(port);
      }
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  return { baseUrl: `http://127.0.0.1:${port}`, port, output, stop };
}
