/**
 * The one start-up of the published server (`@woven-ecs/canvas-store-server@2.0.2`)
 * as a process: its wrapper script (bench/server/published-server.ts, which
 * documents the flags) run under tsx from the workspace root. The
 * convergence targets and the server and big-room benchmarks start it from here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PUBLISHED_SCRIPT = fileURLToPath(new URL('../../bench/server/published-server.ts', import.meta.url));
const WORKSPACE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** How to run the published server. */
interface PublishedServerOptions {
  /** 0 for any free port (the wrapper prints `{"listening":<port>}`). */
  port: number;
  host?: string;
  /** Where its FileStorage keeps the rooms. */
  dataDir: string;
  /** The published Room's `saveThrottleMs`; its default (10 s) when absent. */
  saveThrottleMs?: number;
  /** Concurrent opens of one room share one load (works around the published RoomManager's race). */
  singleRoomLoad?: boolean;
  /** More modules for `node --import`, after tsx (the big-room benchmark's stats preload). */
  imports?: readonly string[];
}

/** The `node` arguments that run the published server with `options`. */
export function publishedServerArgs(options: PublishedServerOptions): string[] {
  return [
    '--import',
    'tsx',
    ...(options.imports ?? []).flatMap((module) => ['--import', module]),
    PUBLISHED_SCRIPT,
    '--port',
    String(options.port),
    '--host',
    options.host ?? '127.0.0.1',
    '--data-dir',
    options.dataDir,
    ...(options.saveThrottleMs === undefined ? [] : ['--save-throttle-ms', String(options.saveThrottleMs)]),
    ...(options.singleRoomLoad ? ['--single-room-load'] : []),
  ];
}

/** Spawns the published server, its stdout and stderr piped; the caller waits for it to listen. */
export function spawnPublishedServer(options: PublishedServerOptions): ChildProcess {
  return spawn(process.execPath, publishedServerArgs(options), {
    cwd: WORKSPACE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
