/**
 * `npm run cluster`: a 3-node cluster on this machine, so a user sees it work.
 * Three server processes (cluster mode: local Redis and PostgreSQL, the
 * database created if absent) on three ports, plus a round-robin proxy port
 * in front of them; every node serves the demo whiteboard. Prints the URLs;
 * Ctrl-C stops everything (SIGTERM to each node: they hand their rooms over
 * and store everything, K7).
 *
 * Options: --port <proxy port, 0: free> (default 8080; nodes get the next ones
 * unless --port 0), --nodes <n> (3), --redis-url (CANVAS_REDIS_URL,
 * redis://127.0.0.1:6379), --postgres-url (DATABASE_URL,
 * postgres://postgres@127.0.0.1:5432/canvas_cluster_demo), --lease-ms (3000).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startRoundRobinProxy } from './round-robin-proxy.js';

const CLI = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    nodes: { type: 'string', default: '3' },
    'redis-url': { type: 'string', default: process.env.CANVAS_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'postgres-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/canvas_cluster_demo',
    },
    'lease-ms': { type: 'string', default: '3000' },
  },
});

const proxyPort = Number(values.port);
const nodeCount = Number(values.nodes);
if (!Number.isInteger(proxyPort) || proxyPort < 0 || proxyPort > 65535) throw new Error('--port: 0..65535');
if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 9) throw new Error('--nodes: 1..9');

/** Creates the database of `url` unless it exists (connecting to the `postgres` database to do so). */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`--postgres-url: unusual database name ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

interface Node {
  id: string;
  port: number;
  child: ChildProcess;
}

/** Starts one node and resolves with its port once it logs that it listens. */
function startNode(id: string, port: number): Promise<Node> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      ...['--host', '127.0.0.1', '--port', String(port)],
      ...['--storage', 'postgres', '--postgres-url', values['postgres-url']],
      ...['--redis-url', values['redis-url'], '--node-id', id, '--cluster-lease-ms', values['lease-ms']],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let partial = '';
    let listening = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + String(chunk)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        let entry: { msg?: string; port?: number; level?: number } = {};
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (!listening && entry.msg === 'canvas-store-server listening' && typeof entry.port === 'number') {
          listening = true;
          resolve({ id, port: entry.port, child });
        } else if ((entry.level ?? 0) >= 40) {
          // Warnings and errors of a node (pino levels): worth seeing in a demo.
          process.stderr.write(`[${id}] ${line}\n`);
        }
      }
    });
    child.once('exit', (code, signal) => {
      if (!listening) reject(new Error(`node ${id} exited before listening (${code ?? signal})`));
    });
  });
}

await ensureDatabase(values['postgres-url']);
const run = randomBytes(3).toString('hex');
const nodes: Node[] = [];
const stopAll = async (): Promise<void> => {
  await Promise.all(
    nodes.map(
      (node) =>
        new Promise<void>((resolve) => {
          if (node.child.exitCode !== null || node.child.signalCode !== null) return resolve();
          node.child.once('exit', () => resolve());
          node.child.kill('SIGTERM');
        }),
    ),
  );
};
try {
  for (let i = 1; i <= nodeCount; i++) {
    nodes.push(await startNode(`demo-${run}-${i}`, proxyPort === 0 ? 0 : proxyPort + i));
  }
} catch (error) {
  await stopAll();
  throw error;
}
const proxy = await startRoundRobinProxy(
  nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
  proxyPort,
);
const address = proxy.address();
const actualProxyPort = typeof address === 'object' && address !== null ? address.port : proxyPort;

for (const node of nodes) console.log(`node ${node.id}: http://127.0.0.1:${node.port}/`);
console.log(`proxy (round-robin): http://127.0.0.1:${actualProxyPort}/`);
console.log('Open the proxy URL (or any node) in two browser windows with the same room. Ctrl-C stops all.');

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  proxy.close();
  proxy.closeAllConnections();
  void stopAll().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
for (const node of nodes) {
  node.child.once('exit', (code, signal) => {
    if (!stopping) console.error(`node ${node.id} exited (${code ?? signal}); the others keep serving`);
  });
}
