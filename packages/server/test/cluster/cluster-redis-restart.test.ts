import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, documentOf, metric, waitUntil } from '../harness/server-process.js';
import { HOW_TO_RUN_POSTGRES, IN_CI, postgresProblem } from '../helpers/postgres.js';
import { ClusterWriter } from './cluster-writer.js';
import { startCluster, type TestNode, view } from './core-cluster.js';
import { OwnRedis } from './own-redis.js';

const LEASE_MS = 1_000;
const problem = await postgresProblem();
let redis: OwnRedis | undefined;

afterEach(async () => {
  await cleanup();
  await redis?.kill();
  redis = undefined;
});

describe.skipIf(problem !== null && !IN_CI)('cluster with Redis restarted (SPEC K6)', () => {
  if (problem !== null) console.warn(`Skipping: needs PostgreSQL (${HOW_TO_RUN_POSTGRES}): ${problem}`);

  it('[K6][K2] Redis killed and restarted: no acked write lost, no clock acked twice, writable again', async () => {
    redis = await OwnRedis.start();
    const own = redis;
    const nodes = await startCluster(2, LEASE_MS, [], own.url);
    const roomId = `redis-restart-${Math.random().toString(36).slice(2, 8)}`;
    const writers = nodes.flatMap((_, i) =>
      [0, 1].map((j) => new ClusterWriter(() => nodes, roomId, `w${i}${j}`)),
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
    const reader = await (nodes[0] as TestNode).server.connect(roomId, 'reader');
    const document = documentOf((await reader.sync(0)).reply);
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

describe.skipIf(problem !== null && !IN_CI)('cluster links losing messages (SPEC K5)', () => {
  it('[K5] messages lost on a link close the relayed sessions with 1012; they reconnect and nothing acked is lost', async () => {
    redis = await OwnRedis.start();
    const own = redis;
    const nodes = await startCluster(2, LEASE_MS, [], own.url);
    const roomId = `link-loss-${Math.random().toString(36).slice(2, 8)}`;
    const writers = nodes.flatMap((_, i) =>
      [0, 1].map((j) => new ClusterWriter(() => nodes, roomId, `l${i}${j}`)),
    );
    for (const writer of writers) await writer.write(`${writer.clientId}-first`);
    const admin = new Redis(own.url);
    try {
      let running = true;
      const writing = writers.map(async (writer) => {
        for (let n = 0; running; n++) await writer.write(`${writer.clientId}-${n}`);
      });
      // Cut every pub/sub connection: what is published until they resubscribe is lost.
      await waitUntil('a link break detected', async () => {
        await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        const breaks = await Promise.all(
          nodes.map(async (n) => metric(await n.server.metrics(), 'canvas_cluster_link_breaks_total') ?? 0),
        );
        return breaks.some((b) => b > 0);
      });
      await waitUntil('a relayed session closed with 1012', () =>
        writers.some((w) => w.closes.includes(1012)),
      );
      const counts = writers.map((w) => w.acked.size);
      await waitUntil('writers writing again', () =>
        writers.every((w, i) => w.acked.size > (counts[i] as number) + 2),
      );
      running = false;
      await Promise.all(writing);
    } finally {
      admin.disconnect();
    }
    const reader = await (nodes[1] as TestNode).server.connect(roomId, 'reader');
    const document = documentOf((await reader.sync(0)).reply);
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
