/**
 * Processes of the big-room benchmark: the server under test (one variant,
 * with the stats preload) and the load-generator workers, all tracked so they
 * are killed when the benchmark exits however it ends.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { publishedServerArgs } from '../../test/harness/published-server.js';
import {
  CLI,
  type ListeningChild,
  ourServerArgs,
  spawnListening,
  stopChild,
} from '../lib/child-processes.js';
import { IpcChild } from '../lib/ipc-child.js';
import type { VariantId } from './config.js';
import type { FromWorker, ToWorker } from './ipc.js';

const PRELOAD = fileURLToPath(new URL('./server-stats-preload.ts', import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** More limits of our CLI raised so that only the room's own cost is measured (one address opens every socket). */
const OURS_LIMIT_FLAGS = [
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

export interface ServerUnderTest extends ListeningChild {
  variant: VariantId;
}

export interface VariantOptions {
  dataDir: string;
  statsFile: string;
  statsMs: number;
  /** `--presence-tick-ms` for our server; undefined passes no flag (the build's default). */
  presenceTickMs?: number;
}

function argsOf(variant: VariantId, options: VariantOptions): string[] {
  if (variant === 'published') {
    return publishedServerArgs({ port: 0, host: '127.0.0.1', dataDir: options.dataDir, imports: [PRELOAD] });
  }
  return [
    '--import',
    'tsx',
    '--import',
    PRELOAD,
    ...ourServerArgs(options.dataDir),
    ...OURS_LIMIT_FLAGS,
    ...(options.presenceTickMs === undefined ? [] : ['--presence-tick-ms', String(options.presenceTickMs)]),
  ];
}

/** Starts one variant on a free port (found through /proc). */
export async function startVariant(variant: VariantId, options: VariantOptions): Promise<ServerUnderTest> {
  const started = await spawnListening({
    label: `${variant}: server`,
    args: argsOf(variant, options),
    env: {
      ...process.env,
      BIGROOM_STATS_FILE: options.statsFile,
      BIGROOM_STATS_MS: String(options.statsMs),
    },
    timeoutMs: 30_000,
    pollMs: 50,
  });
  return { variant, ...started };
}

/** Stops a server: SIGTERM, SIGKILL after `graceMs` (a backlogged server may never drain). */
export async function stopVariant(server: ServerUnderTest, graceMs = 5_000): Promise<void> {
  await stopChild(server.child, graceMs);
}

/** One load-generator process, driven over IPC. */
export class Worker extends IpcChild<ToWorker, FromWorker> {
  constructor() {
    super('worker', WORKER_SCRIPT);
  }
}
