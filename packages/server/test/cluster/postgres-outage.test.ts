/**
 * PostgreSQL unreachable under a cluster (issue 14, SPEC K2, K3, P4): a
 * three-node cluster reaches PostgreSQL through one shared FaultProxy (one
 * URL for all nodes: the cluster's Redis namespace derives from it), with six
 * raw wire writers spread over the nodes and the published client and ours
 * behind the round-robin proxy. PostgreSQL then becomes unreachable for a few
 * lease periods, twice: first refused (`down`: connections reset, new ones
 * refused, like a database restart), then stalled (`hang`: connections stay
 * open and nothing flows, like a network dropping packets); then it comes back.
 *
 * Checks: no write sent during the outage is acked before PostgreSQL is back,
 * every write acked before the heal was stored before it (acks wait for the
 * commit), nothing is stored during the outage, `/readyz` answers
 * 503 on every node while it lasts and 200 after, no acked write is lost, no
 * clock is acked twice, one patch per clock everywhere, no `resync`, the room
 * becomes writable again, and every client converges on what PostgreSQL holds.
 * Figures (time from the heal to the first ack after it, acked writes lost)
 * are recorded, never asserted on time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLost, storedDocument } from '../harness/cluster-checks.js';
import { AppClients } from '../harness/cluster-clients.js';
import { LONG, recordFailover, summarize, writeFigures } from '../harness/cluster-figures.js';
import { type ClusterNode, TestCluster } from '../harness/cluster-nodes.js';
import { Ledger, roomOn, startWriters } from '../harness/cluster-writers.js';
import { type FaultMode, FaultProxy } from '../harness/fault-proxy.js';
import { cleanup, waitUntil } from '../harness/server-process.js';
import { TEST_PG_URL } from '../helpers/postgres.js';

/** Raw wire writers; the two app clients make eight writers. */
const RAW_WRITERS = 6;
const ROOM = 'pg-outage';
/** How long each outage lasts, in lease periods (long enough for every node to notice). */
const OUTAGE_LEASES = 4;
const MODES: FaultMode[] = LONG ? ['down', 'hang', 'down', 'hang', 'down', 'hang'] : ['down', 'hang'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `/readyz` status of every live node (in parallel: a stalled database makes each take a while). */
async function readiness(cluster: TestCluster): Promise<number[]> {
  return Promise.all(
    cluster.live().map((node: ClusterNode) =>
      node.server.get('/readyz').then(
        (reply) => reply.status,
        () => 0,
      ),
    ),
  );
}

/** Waits until every live node answers `/readyz` with `status`, polling gently. */
async function waitReadiness(cluster: TestCluster, status: number, what: string): Promise<void> {
  await waitUntil(
    what,
    async () => {
      const states = await readiness(cluster);
      if (states.every((state) => state === status)) return true;
      await sleep(250);
      return false;
    },
    60_000,
  );
}

/** The room's clock as PostgreSQL holds it (read directly, not through the proxy). */
async function storedClock(cluster: TestCluster): Promise<string | undefined> {
  const rows = await cluster.db.query<{ clock: string }>(
    'SELECT clock FROM canvas_store_rooms WHERE room_id = $1',
    [ROOM],
  );
  return rows[0]?.clock;
}

describe('PostgreSQL unreachable under a cluster', () => {
  let cluster: TestCluster;
  let proxy: FaultProxy;
  beforeAll(async () => {
    const target = new URL(TEST_PG_URL);
    proxy = new FaultProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    cluster = await TestCluster.start({
      nodes: 3,
      label: 'pgoutage',
      // Every node reaches PostgreSQL through the one proxy (one URL: one cluster namespace).
      urls: (_node, urls) => {
        const viaProxy = new URL(urls.postgresUrl);
        viaProxy.port = String(proxy.port);
        return { ...urls, postgresUrl: viaProxy.toString() };
      },
    });
    await cluster.ready();
  });
  afterAll(async () => {
    writeFigures();
    proxy?.set('pass');
    await cluster?.stop();
    await proxy?.stop();
    await cleanup();
  });

  it(`[K2][K3][P4] PostgreSQL refused, then stalled, under ${RAW_WRITERS + 2} writers: nothing acked while it is away, /readyz 503, no acked write lost, no clock reused, writable again, clients converge`, async () => {
    const ledger = new Ledger();
    const apps = new AppClients(cluster, ROOM);
    const writers = startWriters(cluster, ROOM, RAW_WRITERS, ledger);
    let editing: NodeJS.Timeout | undefined;
    const figures: Array<{ mode: FaultMode; timeToWritableMs: number; ackedWritesLost: number }> = [];
    try {
      await apps.add('published', await cluster.proxyUrl());
      await apps.add('ours', await cluster.proxyUrl());
      editing = setInterval(() => apps.editAll(), 100);
      for (const [round, mode] of MODES.entries()) {
        const before = ledger.acked.size;
        await waitUntil('writes before the outage', () => ledger.acked.size >= before + 4 * RAW_WRITERS);
        const owner = await cluster.ownerOf(ROOM);
        proxy.set(mode);
        const cutAt = Date.now();
        await waitReadiness(cluster, 503, `every node unready while PostgreSQL is ${mode}`);
        const clockAtCut = await storedClock(cluster);
        // The outage lasts a few lease periods (the scenario's length, not a bound on anything).
        await sleep(Math.max(0, cutAt + OUTAGE_LEASES * cluster.options.leaseMs - Date.now()));
        const clockBeforeHeal = await storedClock(cluster);
        const storedBeforeHeal = await storedDocument(cluster, ROOM);
        // Copied after the read: every write acked up to now must be in it, as nothing
        // can be committed while PostgreSQL is away and acks wait for the commit.
        const ackedBeforeHeal = new Map(ledger.acked);
        const healAt = Date.now();
        const sentDuring = ledger.ackSpans.filter((span) => span.sentAt > cutAt && span.at < healAt);
        const ackedInOutage = ledger.ackSpans.filter((span) => span.at > cutAt).length;
        proxy.set('pass');
        expect(sentDuring, `writes sent during the outage (${mode}) acked before the heal`).toEqual([]);
        const unstored = ledger.missingFrom(storedBeforeHeal, ackedBeforeHeal);
        expect(
          unstored,
          `acked before the heal but not stored (${mode}): ${ledger.describe(unstored)}`,
        ).toEqual([]);
        expect(clockBeforeHeal, `room clock stored during the outage (${mode})`).toBe(clockAtCut);

        await waitReadiness(cluster, 200, 'every node ready after the heal');
        const writable = await waitUntil('an ack after the heal', () => ledger.firstAckAfter(healAt), 60_000);
        await waitUntil('writes after the heal', () => ledger.acked.size >= before + 8 * RAW_WRITERS, 60_000);
        // Writes in flight across the outage were held, not dropped: acked once PostgreSQL was back.
        const heldThenAcked = ledger.ackSpans.filter(
          (span) => span.sentAt < healAt && span.at >= healAt,
        ).length;
        expect(heldThenAcked, `writes held through the outage (${mode}) and acked after it`).toBeGreaterThan(
          0,
        );
        const ackedBefore = new Map(ledger.acked);
        const lost = ledger.missingFrom(await roomOn(cluster, round, ROOM), ackedBefore);
        const figure = { timeToWritableMs: writable - healAt, ackedWritesLost: lost.length };
        figures.push({ mode, ...figure });
        recordFailover({
          scenario: `PostgreSQL ${mode} (3 nodes)`,
          ...figure,
          leaseMs: cluster.options.leaseMs,
        });
        console.info(
          `PostgreSQL ${mode} for ${healAt - cutAt} ms (owner ${owner.id}; ${ackedInOutage} acks of earlier commits arrived after the cut): writable ${writable - healAt} ms after the heal, ${heldThenAcked} held writes acked after it, acked writes lost ${lost.length}`,
        );
        expect(
          lost,
          `acked writes missing after the outage (${mode}): ${ledger.describe(lost)}; ${await cluster.stored(ROOM, lost)}`,
        ).toEqual([]);
      }
    } finally {
      if (editing) clearInterval(editing);
      proxy.set('pass');
      await writers.stopAll();
    }
    for (const mode of new Set(MODES)) {
      const summary = summarize(
        figures.filter((f) => f.mode === mode).map((f) => ({ scenario: mode, leaseMs: 0, ...f })),
      );
      console.info(
        `PostgreSQL ${mode}: ${summary.runs} outage(s), writable after the heal median ${summary.medianMs} ms, max ${summary.maxMs} ms, acked writes lost ${summary.lost}`,
      );
    }
    await expectNothingLost(cluster, ledger, apps, ROOM);
    apps.close();
  });
});
