/**
 * A Redis partition that isolates only the owner of a busy room (issue 14,
 * SPEC K2, K4, K6): every node of a three-node cluster reaches the cluster's
 * Redis through a FaultProxy of its own (the Redis URL is per node; the
 * cluster's namespace derives from the shared PostgreSQL URL). Six raw wire
 * writers spread over the nodes and the published client and ours behind the
 * round-robin proxy write into one room; then the owner's proxy stalls
 * (`hang`: connections stay open, nothing flows, like packets dropped by a
 * partition), and in a second round cuts (`down`: connections reset, new ones
 * refused), while the other two nodes keep Redis. Each time the partition heals.
 *
 * Checks: the isolated owner gives the room up and closes its sessions with
 * 1012, and so do the other nodes for the sessions they relayed to it; another
 * node takes the room (fenced by a newer epoch in PostgreSQL); no acked write
 * is lost, no clock is acked twice (the isolated owner stopped acking before
 * its lease could pass), one patch per clock everywhere, no `resync`; the room
 * is writable again; after the heal the node is ready again and serves
 * (a fresh session on it gets its write acked); every client converges on PostgreSQL. Figures are
 * recorded, never asserted on time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLost } from '../harness/cluster-checks.js';
import { AppClients } from '../harness/cluster-clients.js';
import { LONG, recordFailover, writeFigures } from '../harness/cluster-figures.js';
import { type ClusterNode, TestCluster } from '../harness/cluster-nodes.js';
import { Ledger, roomOn, startWriters } from '../harness/cluster-writers.js';
import { type FaultMode, FaultProxy } from '../harness/fault-proxy.js';
import { cleanup, type Patch, type WireClient, waitUntil } from '../harness/server-process.js';

/** Raw wire writers; the two app clients make eight writers. */
const RAW_WRITERS = 6;
const ROOM = 'k6-partition';
/**
 * How the owner loses Redis, one partition each: `hang` (connections open, nothing
 * flows: packets dropped) and `down` (connections reset, new ones refused: a lost route).
 */
const MODES: FaultMode[] = LONG ? ['hang', 'down', 'hang', 'down', 'hang', 'down'] : ['hang', 'down'];

/** The node holding `roomId`'s lease as `node` sees it (undefined when none, or the node cannot tell). */
async function holderSeenBy(cluster: TestCluster, node: ClusterNode, roomId: string) {
  const view = await cluster.admin(node, '/admin/cluster');
  const leases = (view?.rooms ?? []) as Array<{ roomId: string; node: string; epoch: number }>;
  return leases.find((lease) => lease.roomId === roomId);
}

/** The room's fencing epoch in PostgreSQL. */
async function storedEpoch(cluster: TestCluster): Promise<number> {
  const rows = await cluster.db.query<{ epoch: string }>(
    'SELECT epoch FROM canvas_store_room_epochs WHERE room_id = $1',
    [ROOM],
  );
  return Number(rows[0]?.epoch ?? 0);
}

describe('K6: a Redis partition isolating the owner', () => {
  let cluster: TestCluster;
  const proxies = new Map<string, FaultProxy>();
  beforeAll(async () => {
    // Started without nodes: each node's Redis proxy must exist before the node does.
    cluster = await TestCluster.start({
      nodes: 0,
      label: 'k6partition',
      urls: (nodeId, urls) => {
        const proxy = proxies.get(nodeId);
        if (!proxy) throw new Error(`no Redis proxy for ${nodeId}`);
        return { ...urls, redisUrl: `redis://127.0.0.1:${proxy.port}` };
      },
    });
    for (let i = 1; i <= 3; i++) {
      const proxy = new FaultProxy('127.0.0.1', cluster.redis.port);
      await proxy.start();
      proxies.set(`n${i}`, proxy);
      await cluster.addNode();
    }
    await cluster.ready();
  });
  afterAll(async () => {
    writeFigures();
    for (const proxy of proxies.values()) proxy.set('pass');
    await cluster?.stop();
    for (const proxy of proxies.values()) await proxy.stop();
    await cleanup();
  });

  it(`[K6][K2][K4][K3] the owner loses Redis under ${RAW_WRITERS + 2} writers while the others keep it: another node takes the room, sessions closed with 1012 reconnect, no acked write lost, no clock reused, the node serves again after the heal`, async () => {
    const ledger = new Ledger();
    const apps = new AppClients(cluster, ROOM);
    const writers = startWriters(cluster, ROOM, RAW_WRITERS, ledger);
    let editing: NodeJS.Timeout | undefined;
    try {
      await apps.add('published', await cluster.proxyUrl());
      await apps.add('ours', await cluster.proxyUrl());
      editing = setInterval(() => apps.editAll(), 100);
      for (const mode of MODES) {
        const before = ledger.acked.size;
        await waitUntil('writes before the partition', () => ledger.acked.size >= before + 4 * RAW_WRITERS);
        const owner = await cluster.ownerOf(ROOM);
        const others = cluster.live().filter((node) => node !== owner);
        const proxy = proxies.get(owner.id);
        if (!proxy) throw new Error(`no Redis proxy for ${owner.id}`);
        const epochBefore = await storedEpoch(cluster);
        // The sessions in the owner's room now: on the owner, or relayed to it by the others.
        const open = writers.writers
          .map((writer) => writer.client)
          .filter((client): client is WireClient => client !== undefined && client.closeInfo === undefined);
        expect(open.length, 'writer sessions open at the cut').toBeGreaterThan(0);
        proxy.set(mode);
        const cutAt = Date.now();

        await waitUntil(
          `${owner.id} unready without Redis`,
          async () => (await owner.server.get('/readyz')).status === 503,
        );
        const taken = await waitUntil(
          'another node holds the room',
          async () => {
            const seen = await Promise.all(others.map((node) => holderSeenBy(cluster, node, ROOM)));
            const holder = seen[0]?.node;
            return holder !== undefined &&
              holder !== owner.id &&
              seen.every((lease) => lease?.node === holder)
              ? { holder, at: Date.now() }
              : undefined;
          },
          60_000,
        );
        // The others keep Redis: they stay ready (and serve the room).
        await waitUntil('the other nodes ready', async () => {
          const states = await Promise.all(others.map((node) => node.server.get('/readyz')));
          return states.every((state) => state.status === 200);
        });
        const writable = await waitUntil(
          'a write sent after the takeover, acked',
          () => ledger.firstAckOfWriteSentAfter(taken.at),
          60_000,
        );
        // Every session of the room at the cut was closed with 1012 (ServiceRestart) and reconnected.
        await waitUntil('the sessions of the partitioned room closed', () =>
          open.every((client) => client.closeInfo !== undefined),
        );
        expect(
          open.map((client) => client.closeInfo?.code),
          'close codes of the sessions open at the cut',
        ).toEqual(open.map(() => 1012));
        expect(await storedEpoch(cluster), 'the new owner claimed a newer epoch').toBeGreaterThan(
          epochBefore,
        );
        await waitUntil(
          'writes after the takeover',
          () => ledger.acked.size >= before + 8 * RAW_WRITERS,
          60_000,
        );
        const ackedBefore = new Map(ledger.acked);
        const lost = ledger.missingFrom(
          await readRoom(cluster, cluster.live().indexOf(others[0] as ClusterNode)),
          ackedBefore,
        );
        const figure = { timeToWritableMs: writable - cutAt, ackedWritesLost: lost.length };
        recordFailover({
          scenario: `Redis partition of the owner, ${mode} (3 nodes)`,
          ...figure,
          leaseMs: cluster.options.leaseMs,
        });
        expect(
          lost,
          `acked writes missing after the takeover: ${ledger.describe(lost)}; ${await cluster.stored(ROOM, lost)}`,
        ).toEqual([]);

        // The partition heals: the node is ready again and serves its clients.
        proxy.set('pass');
        const healAt = Date.now();
        await cluster.ready();
        // A fresh session on the healed node writes and is acked (served here or forwarded).
        const servedAgain = await probeWrite(owner, ledger, `probe-${mode}-${before}`);
        recordFailover({
          scenario: `Redis partition healed, ${mode}: the node serves again (3 nodes)`,
          timeToWritableMs: servedAgain - healAt,
          ackedWritesLost: 0,
          leaseMs: cluster.options.leaseMs,
        });
        console.info(
          `partition (${mode}) of ${owner.id}: ${taken.holder} took the room ${taken.at - cutAt} ms after the cut, writable ${writable - cutAt} ms after it; ${owner.id} acked again ${servedAgain - healAt} ms after the heal; acked writes lost ${lost.length}; ${givenUp(owner)}`,
        );
      }
    } finally {
      if (editing) clearInterval(editing);
      for (const proxy of proxies.values()) proxy.set('pass');
      await writers.stopAll();
    }
    await expectNothingLost(cluster, ledger, apps, ROOM, (index) => readRoom(cluster, index));
    apps.close();
  });
});

/**
 * Writes one key through a fresh session on `node`, retrying while the node
 * turns sessions away, and records the ack in `ledger` (so its clock and its
 * presence in the room are checked with the writers'). Resolves with when the
 * ack arrived.
 */
async function probeWrite(node: ClusterNode, ledger: Ledger, key: string): Promise<number> {
  return waitUntil(
    `a write through ${node.id} acked`,
    async () => {
      const client = await node.server.connect(ROOM, `probe-${key}`).catch(() => undefined);
      if (!client) return undefined;
      try {
        await client.sync(0);
        const patch: Patch[] = [{ [key]: { _exists: true, v: 1 } }];
        const sentAt = Date.now();
        const ack = await client.write(patch);
        ledger.acked.set(key, 1);
        ledger.recordAck(ack.timestamp as number, key, patch, node.id, sentAt);
        return Date.now();
      } catch {
        return undefined;
      } finally {
        client.close();
      }
    },
    60_000,
  );
}

/**
 * The room as a fresh reader on live node `index` sees it, reading again when
 * the reader is closed with 1012 first: right after a heal the rejoined node's
 * links restart and the room may move back to it (SPEC K5, K7), which closes
 * the sessions relayed over them, a reader's too.
 */
function readRoom(cluster: TestCluster, index: number): Promise<Patch> {
  return waitUntil(`the room read on ${cluster.pick(index).id}`, () =>
    roomOn(cluster, index, ROOM).catch((error: unknown) => {
      if (error instanceof Error && error.message.includes('"code":1012')) return undefined;
      throw error;
    }),
  );
}

/**
 * Why `node` gave rooms up, from its logs (`room given up`): a lease that ran out
 * means it stopped before another node could take the room; a fenced commit would
 * mean it tried to write after the takeover (refused by PostgreSQL, nothing acked).
 */
function givenUp(node: ClusterNode): string {
  const reasons = node.server
    .logs()
    .filter((line) => line.msg === 'room given up')
    .map((line) => String(line.reason));
  return `${node.id} gave the room up: ${JSON.stringify(reasons)}`;
}
