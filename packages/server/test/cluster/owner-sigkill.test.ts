/**
 * K4, node loss of the owner (issue 14): eight raw writers spread over three
 * nodes write into one room while the room's owner is SIGKILLed (long mode:
 * again and again, a fresh node joining after each loss). The cluster must
 * lose no acked write, ack no clock value twice, show one patch per clock
 * everywhere, never tell a client its clock went backwards (resync), become
 * writable again, and the published client and ours (behind a round-robin
 * proxy, like behind a load balancer) converge on what the room holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppClients } from '../harness/cluster-clients.js';
import { LONG, recordFailover, writeFigures } from '../harness/cluster-figures.js';
import { TestCluster } from '../harness/cluster-nodes.js';
import { Ledger, roomOn, startWriters } from '../harness/cluster-writers.js';
import { cleanup, waitUntil } from '../harness/server-process.js';

const FAILOVERS = LONG ? 10 : 1;
const WRITERS = 8;
const ROOM = 'k4-owner-kill';

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

  it(`K4 K2 K3: SIGKILL of the owner under ${WRITERS} writers loses no acked write, reuses no clock, and clients converge`, async () => {
    const ledger = new Ledger();
    const apps = new AppClients(cluster, ROOM);
    const writers = startWriters(cluster, ROOM, WRITERS, ledger);
    try {
      await apps.add('published', await cluster.proxyUrl());
      await apps.add('ours', await cluster.proxyUrl());
      for (let round = 0; round < FAILOVERS; round++) {
        const before = ledger.acked.size;
        await waitUntil('writes before the kill', () => ledger.acked.size >= before + 4 * WRITERS);
        apps.editAll();
        const owner = await cluster.ownerOf(ROOM);
        const killingAt = Date.now();
        await owner.kill();
        const killedAt = Date.now();
        const writable = await waitUntil(
          'a write acked after the owner died',
          () => ledger.firstAckAfter(killedAt),
          4 * cluster.options.leaseMs + 30_000,
        );
        apps.editAll();
        await waitUntil('writes after the takeover', () => ledger.acked.size >= before + 8 * WRITERS);
        const doc = await roomOn(cluster, 0, ROOM);
        const lost = ledger.missingFrom(doc);
        recordFailover({
          scenario: 'owner SIGKILL',
          timeToWritableMs: writable - killedAt,
          ackedWritesLost: lost.length,
          leaseMs: cluster.options.leaseMs,
        });
        expect(
          lost,
          `acked writes missing after the takeover (round ${round}, killed ${owner.id} at ${killingAt}..${killedAt}): ${ledger.describe(lost)}; ${await cluster.stored(ROOM, lost)}`,
        ).toEqual([]);
        // Keep three nodes: the next round kills the owner among them.
        if (round < FAILOVERS - 1) await cluster.addNode();
      }
    } finally {
      await writers.stopAll();
    }
    expect(ledger.reusedClocks, 'clock values acked twice').toEqual([]);
    expect(ledger.conflicts, 'clocks with two different patches').toEqual([]);
    expect(ledger.resyncs, 'resync frames (the room clock went backwards)').toBe(0);
    // Every live node serves the same room with every acked write.
    for (let i = 0; i < cluster.live().length; i++) {
      expect(ledger.missingFrom(await roomOn(cluster, i, ROOM))).toEqual([]);
    }
    const final = await apps.converged();
    expect(Object.keys(final).length).toBeGreaterThanOrEqual(ledger.acked.size);
    apps.close();
  });
});
