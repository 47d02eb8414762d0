import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, type Frame, WireClient, waitUntil } from '../harness/server-process.js';
import { HOW_TO_RUN_POSTGRES, IN_CI, postgresProblem } from '../helpers/postgres.js';
import {
  ownerOf,
  redisProblem,
  startCluster,
  type TestNode,
  waitForMembershipToClear,
} from './core-cluster.js';

const LEASE_MS = 1_000;
const problem = (await postgresProblem()) ?? (await redisProblem());

afterEach(async () => {
  await cleanup();
  await waitForMembershipToClear(LEASE_MS);
});

describe.skipIf(problem !== null && !IN_CI)('cluster fencing (SPEC K2)', () => {
  if (problem !== null)
    console.warn(`Skipping: needs PostgreSQL and Redis (${HOW_TO_RUN_POSTGRES}): ${problem}`);

  it('[K2][K4] a SIGSTOPped owner past its lease is fenced on SIGCONT: nothing it acks reuses a clock', async () => {
    const nodes = await startCluster(2, LEASE_MS);
    const roomId = `stopped-${Math.random().toString(36).slice(2, 8)}`;
    const probe = await (nodes[0] as TestNode).server.connect(roomId, 'probe');
    await probe.sync(0);
    const owner = await ownerOf(nodes, roomId);
    const other = nodes.find((n) => n !== owner) as TestNode;
    const onOwner = await owner.server.connect(roomId, 'on-owner');
    await onOwner.sync(0);
    await onOwner.write([{ before: { _exists: true } }]);

    owner.server.child.kill('SIGSTOP');
    try {
      // Written to the paused owner: these sit in its socket buffer until SIGCONT.
      const staleIds = Array.from({ length: 5 }, (_, i) =>
        onOwner.sendPatch([{ [`stale-${i}`]: { _exists: true } }]),
      );
      // Meanwhile the other node takes the room over once the lease ran out, and writes.
      const fresh = await waitUntil('the other node serving the room', async () => {
        const client = await WireClient.connect(other.server.url(roomId, `fresh-${Math.random()}`));
        try {
          await client.sync(0);
          await client.write([{ probe: { _exists: true } }]);
          return client;
        } catch {
          client.ws.terminate();
          return undefined;
        }
      });
      for (let i = 0; i < 5; i++) await fresh.write([{ [`fresh-${i}`]: { _exists: true } }]);
      const freshAcks = fresh.ofType('ack').map((a) => a.timestamp as number);

      owner.server.child.kill('SIGCONT');
      // The old owner gives the room up: its session is closed (1012) without acking the stale writes
      // under any clock the new owner acked.
      const { code } = await onOwner.closed();
      expect(code).toBe(1012);
      const staleAcks = onOwner.frames.filter(
        (f: Frame) => f.type === 'ack' && staleIds.includes(f.messageId as string),
      );
      for (const ack of staleAcks) expect(freshAcks).not.toContain(ack.timestamp);
      // What the room holds is what the new owner acked, and the stale writes only if they were acked.
      const reader = await other.server.connect(roomId, 'reader');
      const { reply } = await reader.sync(0);
      const keys = Object.keys(Object.assign({}, ...((reply?.documentPatches as object[]) ?? [])));
      for (let i = 0; i < 5; i++) expect(keys).toContain(`fresh-${i}`);
      expect(keys).toContain('before');
      // A stale write the old owner acked was stored before the takeover: it must be there.
      for (const ack of staleAcks)
        expect(keys).toContain(`stale-${staleIds.indexOf(ack.messageId as string)}`);
      console.info(`[K2] stale writes acked by the paused owner: ${staleAcks.length} of ${staleIds.length}`);
    } finally {
      owner.server.child.kill('SIGCONT');
    }
  });
});
