/**
 * A node must never serve a room instance opened under a lease it no longer
 * holds (issue 14, SPEC K1, K2, K4). The scenario: node A takes a room's lease
 * and starts loading the room; while the load is slow, A's lease moves to node
 * B (as when A's renewals are late and the lease runs out); B opens the room
 * and acks a write; B stops (SIGTERM) and the room comes back to A. A must
 * serve B's write: the instance it loaded under its lost lease is stale and
 * has to be dropped, and the room reloaded from PostgreSQL.
 *
 * Determinism comes from outside the nodes: the test holds the room's epoch
 * row locked in PostgreSQL so A's load waits on it, and stands in for the
 * lease running out by handing A's lease to B in Redis (exactly what Redis
 * does after an expiry and a take by another node). No timing decides the
 * outcome: each step waits for what the nodes report.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../src/cluster/cluster-keys.js';
import { preferredOwner } from '../../src/cluster/rendezvous.js';
import { type ClusterNode, TestCluster } from '../harness/cluster-nodes.js';
import { cleanup, documentOf, waitUntil } from '../harness/server-process.js';

/** The write the test makes through B. */
const WRITE = { 'written-on-b': { _exists: true, v: 1 } };

/** The rooms a node's `/readyz` says it holds the lease of. */
async function ownedRooms(node: ClusterNode): Promise<string[]> {
  const reply = await node.server.get('/readyz').catch(() => undefined);
  if (!reply) return [];
  const view = JSON.parse(reply.text) as { cluster?: { ownedRooms?: string[] } };
  return view.cluster?.ownedRooms ?? [];
}

describe('K1 K2: a room instance is bound to the lease it was opened under', () => {
  let cluster: TestCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 2, label: 'stale' });
    await cluster.ready();
    redis = new Redis(cluster.redis.url, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
    await cleanup();
  });

  it('[K1][K2][K4] a node whose lease moved away while it loaded the room serves the write acked meanwhile when the room comes back', async () => {
    const [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    // A room A wins, so that A opens it and takes it back once B is gone.
    let roomId = '';
    for (let i = 0; preferredOwner(roomId, [a.id, b.id]) !== a.id || roomId === ''; i++)
      roomId = `stale-${i}`;
    const keys = new ClusterKeys(cluster.db.url);

    // Creates the schema and the room's epoch row, so the test can lock it.
    const warm = await a.server.connect(`${roomId}-warm`, 'warm');
    await warm.sync(0);
    warm.close();
    await cluster.db.query('INSERT INTO canvas_store_room_epochs (room_id, epoch) VALUES ($1, 0)', [roomId]);
    /** Statements of the nodes waiting for the lock on the room's epoch row (their epoch claims). */
    const claimsWaiting = async (): Promise<number> => {
      const rows = await cluster.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%room_epochs%'`,
      );
      return Number(rows[0]?.n ?? 0);
    };
    const lock = new pg.Client({ connectionString: cluster.db.url });
    lock.on('error', () => {});
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('SELECT epoch FROM canvas_store_room_epochs WHERE room_id = $1 FOR UPDATE', [roomId]);

    // A takes the lease and starts loading: its epoch claim waits on the lock.
    const early = await a.server.connect(roomId, 'early');
    const earlySync = early.sync(0).catch(() => undefined);
    await waitUntil(
      'A holding the lease',
      async () => (await redis.hget(keys.lease(roomId), 'node')) === a.id,
    );
    await waitUntil('A’s claim waiting on the lock', async () => (await claimsWaiting()) >= 1);

    // A's lease goes to B (what Redis does when A's lease ran out and B took the room).
    const epoch = await redis.incrby(keys.epoch(roomId), 100);
    await redis.hset(keys.lease(roomId), 'node', b.id, 'epoch', String(epoch));
    await redis.pexpire(keys.lease(roomId), 60_000);
    await waitUntil('A noticing its lease is gone', async () => !(await ownedRooms(a)).includes(roomId));

    // B opens the room under the newer lease.
    const writer = await b.server.connect(roomId, 'writer');
    const writerSync = writer.sync(0);
    await waitUntil('B holding the lease', async () => (await ownedRooms(b)).includes(roomId));
    // B's claim queues behind A's: B's epoch ends up the newer one, as when B took over after A.
    await waitUntil('B’s claim waiting on the lock', async () => (await claimsWaiting()) >= 2);
    await lock.query('COMMIT');
    await lock.end();
    await writerSync;
    // B prefers to give the room to A (its preferred owner) and may do so at any tick, closing
    // the writer with 1012 (K7): the writer then reconnects to B and writes again, as a client
    // would (D7); before the fix such a write reached A's stale instance and was never acked.
    let ack = await writer.write([WRITE]).catch(() => undefined);
    for (let attempt = 0; ack === undefined && attempt < 20; attempt++) {
      const again = await b.server.connect(roomId, `writer-${attempt}`);
      ack = await again
        .sync(0)
        .then(() => again.write([WRITE]))
        .catch(() => undefined);
    }
    expect(ack?.type).toBe('ack');
    // The session that waited for A's load was not served from it: it was told to reconnect.
    await earlySync;
    expect((await early.closed()).code).toBe(1012);

    // B stops: it stores the room and releases the lease; the room comes back to A.
    expect((await b.terminate()).code).toBe(0);
    const reader = await a.server.connect(roomId, 'reader');
    const { reply } = await reader.sync(0);
    const doc = documentOf(reply);
    reader.close();
    expect(
      doc['written-on-b'],
      `the write B acked; ${await cluster.stored(roomId, ['written-on-b'])}`,
    ).toEqual({
      _exists: true,
      v: 1,
    });
  });
});
