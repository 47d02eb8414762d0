/**
 * Node processes of the cluster benchmark: N servers storing in one
 * PostgreSQL database, in cluster mode when a Redis URL is given (single-node
 * mode otherwise), on `--port 0` (the port found through /proc, as the server
 * benchmark does), logging warnings only, rate limits raised so the load
 * generator measures the server rather than its limits.
 */
import type { ChildProcess } from 'node:child_process';
import { CLI, spawnListening, stopChild } from '../lib/child-processes.js';

const ADMIN_SECRET = 'cluster-bench-admin-secret';

export interface BenchNode {
  id: string;
  child: ChildProcess;
  pid: number;
  port: number;
}

export interface NodeSet {
  nodes: BenchNode[];
  /** Which node (index) owns each room: in single-node mode node 0, in a cluster from `GET /admin/cluster`. */
  owners(rooms: string[]): Promise<Record<string, number>>;
}

async function startNode(id: string, postgresUrl: string, redisUrl: string | undefined): Promise<BenchNode> {
  const cluster = redisUrl ? ['--redis-url', redisUrl, '--node-id', id] : [];
  const { child, pid, port } = await spawnListening({
    label: `node ${id}`,
    args: [
      CLI,
      ...['--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'],
      ...['--storage', 'postgres', '--postgres-url', postgresUrl, ...cluster],
      ...['--admin-secret', ADMIN_SECRET],
      ...['--frames-per-second', '100000', '--bytes-per-second', '1000000000'],
      ...['--max-connections-per-address', '5000', '--max-rooms-per-address', '5000'],
    ],
    timeoutMs: 30_000,
    pollMs: 25,
  });
  return { id, child, pid, port };
}

/**
 * Waits until every node lists every node as a member. A node hears of members
 * that joined after it only at its next renewal; rooms opened before then move
 * to the newcomer they prefer (1012 to all their sessions, SPEC K7), which
 * would land in the measured window.
 */
async function untilEveryNodeSeesAll(nodes: BenchNode[]): Promise<void> {
  const ids = nodes.map((node) => node.id);
  const deadline = Date.now() + 30_000;
  for (const node of nodes) {
    for (;;) {
      const view = await fetch(`http://127.0.0.1:${node.port}/readyz`)
        .then((response) => response.json() as Promise<{ cluster?: { liveNodes?: string[] } }>)
        .catch(() => undefined);
      if (ids.every((id) => view?.cluster?.liveNodes?.includes(id))) break;
      if (Date.now() > deadline) throw new Error(`node ${node.id} does not list every node as a member`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Starts `count` nodes one after the other (in a cluster: until each sees all as members). */
export async function startNodes(count: number, postgresUrl: string, redisUrl?: string): Promise<NodeSet> {
  const nodes: BenchNode[] = [];
  for (let i = 1; i <= count; i++) nodes.push(await startNode(`b${i}`, postgresUrl, redisUrl));
  if (redisUrl) await untilEveryNodeSeesAll(nodes);
  return {
    nodes,
    async owners(rooms) {
      if (!redisUrl) return Object.fromEntries(rooms.map((room) => [room, 0]));
      const first = nodes[0] as BenchNode;
      const response = await fetch(`http://127.0.0.1:${first.port}/admin/cluster`, {
        headers: { authorization: `Bearer ${ADMIN_SECRET}` },
      });
      const view = (await response.json()) as { rooms?: Array<{ roomId: string; node: string }> };
      const owners: Record<string, number> = {};
      for (const lease of view.rooms ?? [])
        owners[lease.roomId] = nodes.findIndex((node) => node.id === lease.node);
      return owners;
    },
  };
}

/** SIGTERM to every node (SIGKILL after 15 s), awaiting their exits. */
export async function stopNodes(set: NodeSet): Promise<void> {
  await Promise.all(set.nodes.map(({ child }) => stopChild(child, 15_000)));
}
