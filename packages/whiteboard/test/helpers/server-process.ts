/**
 * The built server command serving the built whiteboard, for the browser
 * tests: the one harness for the command as a process
 * (packages/server/test/harness/server-process.ts) with a fresh data
 * directory and, when asked, the admin API.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CLI,
  ServerProcess as CommandProcess,
  cleanup,
  tempDir,
} from '../../../server/test/harness/server-process.js';

const WHITEBOARD_PAGE = fileURLToPath(new URL('../../../server/public/index.html', import.meta.url));
const INSPECTOR_PAGE = fileURLToPath(new URL('../../../server/public/inspect.html', import.meta.url));

/** How long a graceful shutdown may take before the process is killed, ms. */
const STOP_TIMEOUT_MS = 10_000;

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
  /** Every line the process printed (stdout, then stderr), for failure messages. */
  readonly output: readonly string[];
  /** Stops the process (SIGTERM, then SIGKILL) and deletes its directories. */
  stop(): Promise<void>;
}

/**
 * Starts `packages/server/dist/server/cli.js` on a free port with a fresh
 * temporary data directory (SQLite storage) and resolves once it logs that it
 * listens. One server at a time per test file: stopping it also clears what
 * the harness tracks.
 */
export async function startServer(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  for (const file of [CLI, WHITEBOARD_PAGE, INSPECTOR_PAGE]) {
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: run \`npm run build\` first (npm run test:browser does)`);
    }
  }
  const args = ['--data-dir', tempDir('whiteboard-test-data-'), '--log-level', 'info'];
  if (options.adminSecret !== undefined) args.push('--admin-secret', options.adminSecret);
  const server = await CommandProcess.start({ args }).catch(async (error: unknown) => {
    await cleanup();
    throw error;
  });
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    port: server.port,
    get output() {
      return [...server.lines, ...server.stderr.split('\n').filter((line) => line !== '')];
    },
    async stop() {
      const exited = server.stop();
      const timer = setTimeout(() => server.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      await cleanup();
    },
  };
}
