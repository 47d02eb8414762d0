/**
 * K4, loss of a node that does not own the room (issue 14): its sessions must
 * vanish from presence (E3: their ephemeral keys broadcast as deleted) and
 * from clientCount (S1) on every other node; the room's clock and document
 * are untouched and it stays writable. The time until the other nodes see it
 * is recorded (the contract: within two lease periods), not asserted: the
 * machine is shared and noisy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LONG, recordFailover, writeFigures } from '../harness/cluster-figures.js';
import { TestCluster } from '../harness/cluster-nodes.js';
import { roomOn } from '../harness/cluster-writers.js';
import { cleanup, type Frame, type WireClient } from '../harness/server-process.js';

const ROUNDS = LONG ? 5 : 1;
const ROOM = 'k4-nonowner-kill';

/** The keys of `keys` that `doc` lacks. */
function missing(doc: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((key) => doc[key] === undefined);
}

/** The latest clientCount a client received. */
function lastCount(client: WireClient): number | undefined {
  return client.ofType('clientCount').at(-1)?.count as number | undefined;
}

/** True once `client` received `{ _exists: false }` for ephemeral key `key`. */
function sawEphemeralDeleted(client: WireClient, key: string): boolean {
  return client.frames.some((frame: Frame) =>
    ((frame.ephemeralPatches as Record<string, Record<string, unknown>>[] | undefined) ?? []).some(
      (patch) => patch[key]?._exists === false,
    ),
  );
}

describe('K4: SIGKILL of a non-owner node', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 3, label: 'k4other' });
    await cluster.ready();
  });
  afterAll(async () => {
    writeFigures();
    await cluster?.stop();
    await cleanup();
  });

  it('K4 E3 S1: presence and clientCount of the dead node are cleaned on every other node; nothing acked is lost', async () => {
    // No background writers here: their reconnects would move clientCount while the test reads it.
    const written: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A room gets its owner with its first session; this one leaves before anything is counted.
      const opener = await cluster.pick(round).server.connect(ROOM, `opener-${round}`);
      await opener.sync(0);
      const owner = await cluster.ownerOf(ROOM);
      opener.close();
      await opener.closed();
      const victim = await cluster.nonOwnerOf(ROOM);
      const watchers: WireClient[] = [];
      for (const node of cluster.live().filter((node) => node !== victim)) {
        const watcher = await node.server.connect(ROOM, `watch-${round}-${node.id}`);
        await watcher.sync(0);
        watchers.push(watcher);
      }
      const doomed: WireClient[] = [];
      for (let i = 0; i < 2; i++) {
        const client = await victim.server.connect(ROOM, `doomed-${round}-${i}`);
        await client.sync(0);
        client.send({
          type: 'patch',
          messageId: 'cursor',
          ephemeralPatches: [{ [`cursor-${round}-${i}`]: { _exists: true, x: i } }],
        });
        doomed.push(client);
      }
      for (const watcher of watchers) {
        await watcher.waitFor('the doomed cursors', () =>
          [0, 1].every((i) =>
            watcher.frames.some((f) =>
              ((f.ephemeralPatches as Record<string, unknown>[] | undefined) ?? []).some(
                (p) => p[`cursor-${round}-${i}`] !== undefined,
              ),
            ),
          )
            ? true
            : undefined,
        );
      }
      const first = watchers[0] as WireClient;
      for (let i = 0; i < 5; i++) {
        await first.write([{ [`before-${round}-${i}`]: { _exists: true, v: i } }]);
        written.push(`before-${round}-${i}`);
      }
      await first.waitFor('the full clientCount', () =>
        lastCount(first) === watchers.length + doomed.length ? true : undefined,
      );
      await victim.kill();
      const killedAt = Date.now();
      for (const watcher of watchers) {
        await watcher.waitFor(
          'the dead node vanishing from presence and clientCount',
          () =>
            lastCount(watcher) === watchers.length &&
            [0, 1].every((i) => sawEphemeralDeleted(watcher, `cursor-${round}-${i}`))
              ? true
              : undefined,
          60_000,
        );
      }
      recordFailover({
        scenario: 'non-owner SIGKILL: presence cleaned',
        timeToWritableMs: Date.now() - killedAt,
        ackedWritesLost: missing(await roomOn(cluster, 0, ROOM), written).length,
        leaseMs: cluster.options.leaseMs,
      });
      // The owner was not touched: its sessions stay, the room stays writable.
      expect(owner.alive).toBe(true);
      const ack = await first.write([{ [`after-${round}`]: { _exists: true, v: round } }]);
      expect(ack.type).toBe('ack');
      written.push(`after-${round}`);
      for (const watcher of watchers) watcher.close();
      if (round < ROUNDS - 1) await cluster.addNode();
    }
    expect(missing(await roomOn(cluster, 0, ROOM), written)).toEqual([]);
  });
});
