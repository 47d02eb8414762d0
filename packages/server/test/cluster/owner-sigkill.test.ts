/**
 * K4, loss of the room's owner (issue 14): eight writers write into one room
 * of a three-node cluster while the owner is SIGKILLed: six raw wire writers
 * spread over the nodes (each keeps one write in flight and reconnects to a
 * live node, D7, when its socket goes), one published `@woven-ecs/canvas-store`
 * client and one of ours, both behind a round-robin proxy over the live nodes
 * (like behind a load balancer) and editing all along. Short mode kills the
 * owner once; long mode (CANVAS_TEST_LONG=1) kills the owner again and again,
 * starting a fresh node after each loss so three stay up.
 *
 * The cluster must lose no acked write, ack no clock value twice, show one
 * patch per clock in acks and broadcasts everywhere, never tell a client its
 * clock went backwards (resync), become writable again, and every client must
 * converge on what PostgreSQL holds. The failover figures (time from the kill
 * to the first ack afterwards, acked writes lost) are recorded, never asserted
 * on time: the machine is shared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLost } from '../harness/cluster-checks.js';
import { AppClients } from '../harness/cluster-clients.js';
import { LONG, recordFailover, summarize, writeFigures } from '../harness/cluster-figures.js';
import { TestCluster } from '../harness/cluster-nodes.js';
import { Ledger, roomOn, startWriters } from '../harness/cluster-writers.js';
import { cleanup, waitUntil } from '../harness/server-process.js';

const FAILOVERS = LONG ? 8 : 1;
/** Raw wire writers; the two app clients make eight writers. */
const RAW_WRITERS = 6;
const ROOM = 'k4-owner-kill';
const SCENARIO = 'owner SIGKILL (3 nodes)';

describe('K4: SIGKILL of the owner', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 3, label: 'k4owner' });
    await cluster.ready();
  });
  afterAll(async () => {
    writeFigures();
    await cluster?.stop();
    await cleanup();
  });

  it(`[K4][K2][K3] SIGKILL of the owner under ${RAW_WRITERS + 2} writers (raw, published, ours) loses no acked write, reuses no clock, and every client converges on PostgreSQL`, async () => {
    const ledger = new Ledger();
    const apps = new AppClients(cluster, ROOM);
    const writers = startWriters(cluster, ROOM, RAW_WRITERS, ledger);
    let editing: NodeJS.Timeout | undefined;
    const figures: Array<{ timeToWritableMs: number; ackedWritesLost: number }> = [];
    try {
      await apps.add('published', await cluster.proxyUrl());
      await apps.add('ours', await cluster.proxyUrl());
      // The app clients edit like users drawing, through every failover.
      editing = setInterval(() => apps.editAll(), 100);
      for (let round = 0; round < FAILOVERS; round++) {
        const before = ledger.acked.size;
        await waitUntil('writes before the kill', () => ledger.acked.size >= before + 4 * RAW_WRITERS);
        const owner = await cluster.ownerOf(ROOM);
        await owner.kill();
        const killedAt = Date.now();
        const writable = await waitUntil(
          'a write sent after the owner died, acked',
          () => ledger.firstAckOfWriteSentAfter(killedAt),
          4 * cluster.options.leaseMs + 60_000,
        );
        await waitUntil('writes after the takeover', () => ledger.acked.size >= before + 8 * RAW_WRITERS);
        // Only writes acked before the read started must be in it (the writers go on meanwhile).
        const ackedBefore = new Map(ledger.acked);
        const lost = ledger.missingFrom(await roomOn(cluster, round, ROOM), ackedBefore);
        const figure = { timeToWritableMs: writable - killedAt, ackedWritesLost: lost.length };
        figures.push(figure);
        recordFailover({ scenario: SCENARIO, ...figure, leaseMs: cluster.options.leaseMs });
        expect(
          lost,
          `acked writes missing after the takeover (round ${round}, killed ${owner.id}): ${ledger.describe(lost)}; ${await cluster.stored(ROOM, lost)}`,
        ).toEqual([]);
        // Keep three nodes: the next round kills the owner among them.
        if (round < FAILOVERS - 1) {
          await cluster.addNode();
          await cluster.ready();
        }
      }
    } finally {
      if (editing) clearInterval(editing);
      await writers.stopAll();
    }
    const summary = summarize(figures.map((figure) => ({ scenario: SCENARIO, leaseMs: 0, ...figure })));
    console.info(
      `${SCENARIO}: ${summary.runs} failover(s), time to writable median ${summary.medianMs} ms, max ${summary.maxMs} ms, acked writes lost ${summary.lost}; lease ${cluster.options.leaseMs} ms; close codes ${JSON.stringify(countOf(ledger.closeCodes))}`,
    );
    await expectNothingLost(cluster, ledger, apps, ROOM);
    apps.close();
  });
});

/** How many times each value occurs. */
function countOf(values: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
