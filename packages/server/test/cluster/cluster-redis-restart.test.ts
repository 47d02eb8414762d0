import { afterEach, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../harness/cluster-redis.js';
import { cleanup, documentOf, waitUntil } from '../harness/server-process.js';
import { HOW_TO_RUN_POSTGRES, IN_CI, postgresProblem } from '../helpers/postgres.js';
import { ClusterWriter } from './cluster-writer.js';
import { startCluster, type TestNode, view } from './core-cluster.js';

const LEASE_MS = 1_000;
const problem = await postgresProblem();
let redis: PrivateRedis | undefined;

afterEach(async () => {
  await cleanup();
  await redis?.kill();
  redis = undefined;
});

describe.skipIf(problem !== null && !IN_CI)('cluster with Redis restarted (SPEC K6)', () => {
  if (problem !== null) console.warn(`Skipping: needs PostgreSQL (${HOW_TO_RUN_POSTGRES}): ${problem}`);

  it('[K6][K2] Redis killed and restarted: no acked write lost, no clock acked twice, writable again', async () => {
    redis = await PrivateRedis.start();
    const own = redis;
    const nodes = await startCluster(2, LEASE_MS, [], own.url);
    const roomId = `redis-restart-${Math.random().toString(36).slice(2, 8)}`;
    const writers = nodes.flatMap((_, i) =>
      [0, 1].map((j) => new ClusterWriter(() => nodes, roomId, `w${i}${j}`, i)),
    );
    for (const writer of writers) for (let n = 0; n < 5; n++) await writer.write(`${writer.clientId}-a${n}`);

    await own.kill();
    // Every node notices: not ready while Redis is away.
    await waitUntil('both nodes unready', async () => {
      const states = await Promise.all(nodes.map((n) => n.server.get('/readyz')));
      return states.every((s) => s.status === 503);
    });
    await own.restart();
    await waitUntil('both nodes ready again', async () => {
      const states = await Promise.all(nodes.map((n) => n.server.get('/readyz')));
      return states.every((s) => s.status === 200);
    });
    for (const writer of writers) for (let n = 0; n < 5; n++) await writer.write(`${writer.clientId}-b${n}`);

    const views = await Promise.all(nodes.map(view));
    const owners = views.filter((v) => v?.ownedRooms.includes(roomId));
    expect(owners).toHaveLength(1);
    const document = await readAfterRestart(nodes[0] as TestNode, roomId);
    const clocks: number[] = [];
    for (const writer of writers) {
      for (const [key, clock] of writer.acked) {
        expect(document[key], key).toBeDefined();
        clocks.push(clock);
      }
    }
    expect(new Set(clocks).size).toBe(clocks.length);
  });
});

/**
 * The room as a fresh reader on `node` sees it. Links between nodes restart
 * with Redis, and a session opened while a link resets is closed with 1012
 * (SPEC K5: it recovers by reconnecting), so the reader reconnects on 1012.
 */
async function readAfterRestart(node: TestNode, roomId: string) {
  for (let attempt = 1; ; attempt++) {
    const reader = await node.server.connect(roomId, `reader-${attempt}`);
    try {
      const document = documentOf((await reader.sync(0)).reply);
      reader.close();
      return document;
    } catch (error) {
      if (attempt >= 5 || reader.closeInfo?.code !== 1012) throw error;
    }
  }
}
