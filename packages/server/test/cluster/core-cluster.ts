/**
 * Starts cluster nodes (the built command with `--redis-url`) for the core
 * cluster tests, on the local Redis and the test PostgreSQL database, and
 * reads each node's view of the cluster from `/readyz`.
 */
import { Redis } from 'ioredis';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import { type Frame, ServerProcess, waitUntil } from '../harness/server-process.js';
import { TEST_PG_URL } from '../helpers/postgres.js';

/** The Redis the cluster tests use. */
const TEST_REDIS_URL = process.env.CANVAS_STORE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis cannot be used, or null when it answers PING. */
export async function redisProblem(): Promise<string | null> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    redis.disconnect();
  }
}

/** One node of a test cluster. */
export interface TestNode {
  id: string;
  server: ServerProcess;
}

/** What `/readyz` says of the cluster. */
export interface ClusterView {
  nodeId: string;
  liveNodes: string[];
  ownedRooms: string[];
}

const run = `${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
let nextNode = 0;

/** Starts one node; `args` are added after the cluster flags. */
export async function startNode(
  leaseMs: number,
  args: string[] = [],
  redisUrl = TEST_REDIS_URL,
): Promise<TestNode> {
  const id = `t${run}-${nextNode++}`;
  const server = await ServerProcess.start({
    args: [
      '--storage',
      'postgres',
      '--postgres-url',
      TEST_PG_URL,
      '--redis-url',
      redisUrl,
      '--node-id',
      id,
      '--cluster-lease-ms',
      String(leaseMs),
      ...args,
    ],
  });
  return { id, server };
}

/** Starts `count` nodes and waits until every one sees all of them live. */
export async function startCluster(
  count: number,
  leaseMs: number,
  args: string[] = [],
  redisUrl = TEST_REDIS_URL,
): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startNode(leaseMs, args, redisUrl));
  const ids = nodes.map((n) => n.id);
  await waitUntil('every node sees the whole cluster', async () => {
    const views = await Promise.all(nodes.map(view));
    return views.every((v) => ids.every((id) => v?.liveNodes.includes(id)));
  });
  return nodes;
}

/** The node's view of the cluster, undefined when it does not answer. */
export async function view(node: TestNode): Promise<ClusterView | undefined> {
  try {
    const { text } = await node.server.get('/readyz');
    return (JSON.parse(text) as { cluster?: ClusterView }).cluster;
  } catch {
    return undefined;
  }
}

/** The node owning `roomId` (waits until one does). */
export function ownerOf(nodes: TestNode[], roomId: string): Promise<TestNode> {
  return waitUntil(`an owner of ${roomId}`, async () => {
    for (const node of nodes) if ((await view(node))?.ownedRooms.includes(roomId)) return node;
    return undefined;
  });
}

/** Waits until none of this run's nodes is in the membership any more (between tests). */
export async function waitForMembershipToClear(leaseMs: number): Promise<void> {
  const keys = new ClusterKeys(TEST_PG_URL);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await waitUntil(
      'stale members to expire',
      async () => {
        const members = await redis.zrangebyscore(keys.members, Date.now(), '+inf');
        return !members.some((m) => m.startsWith(`t${run}-`));
      },
      leaseMs * 4 + 10_000,
    );
  } finally {
    redis.disconnect();
  }
}

/** Timestamps of a client's acks and document broadcasts, in the order received. */
export function clockSequence(frames: Frame[]): number[] {
  return frames
    .filter(
      (f) => f.type === 'ack' || (f.type === 'patch' && f.documentPatches !== undefined && f.clientId !== ''),
    )
    .map((f) => f.timestamp as number);
}
