/**
 * Child processes of the server benchmark: the three servers and the load
 * generator, started through the tracked helpers of `bench/lib` so they are
 * killed when the benchmark exits.
 */
import { fileURLToPath } from 'node:url';
import { publishedServerArgs } from '../../test/harness/published-server.js';
import { type ListeningChild, ourServerArgs, spawnListening, stopChild } from '../lib/child-processes.js';
import { IpcChild } from '../lib/ipc-child.js';
import type { FromLoadClient, ToLoadClient } from './ipc.js';

const RELAY_SCRIPT = fileURLToPath(new URL('./relay-server.ts', import.meta.url));
const LOAD_CLIENT_SCRIPT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

export type ServerKind = 'ours' | 'published' | 'relay';

export interface RunningServer extends ListeningChild {
  kind: ServerKind;
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
        ...ourServerArgs(options.dataDir),
      ];
    case 'published':
      return publishedServerArgs({ port: 0, host: '127.0.0.1', dataDir: options.dataDir });
    case 'relay':
      return ['--import', 'tsx', RELAY_SCRIPT, '--port', '0', '--host', '127.0.0.1'];
  }
}

/** Starts a server process with `--port 0` and finds its port through /proc. */
export async function startServer(kind: ServerKind, options: ServerStartOptions): Promise<RunningServer> {
  const started = await spawnListening({
    label: `${kind} server`,
    args: serverArgs(kind, options),
    timeoutMs: 20_000,
    pollMs: 25,
  });
  return { kind, ...started };
}

/** Stops a server gracefully (SIGTERM; SIGKILL after `graceMs`); resolves with its exit code. */
export function stopServer(server: RunningServer, graceMs = 15_000): Promise<number | string> {
  return stopChild(server.child, graceMs);
}

/** The load generator, a child process driven over IPC. */
export class LoadClient extends IpcChild<ToLoadClient, FromLoadClient> {
  constructor() {
    super('load client', LOAD_CLIENT_SCRIPT);
  }
}
