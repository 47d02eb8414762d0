import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, documentOf } from '../harness/server-process.js';
import { HOW_TO_RUN_POSTGRES, IN_CI, postgresProblem } from '../helpers/postgres.js';
import { ClusterWriter } from './cluster-writer.js';
import {
  ownerOf,
  redisProblem,
  startCluster,
  startNode,
  type TestNode,
  waitForMembershipToClear,
} from './core-cluster.js';

const LEASE_MS = 1_000;
const problem = (await postgresProblem()) ?? (await redisProblem());

afterEach(async () => {
  await cleanup();
  await waitForMembershipToClear(LEASE_MS);
});

/** Checks the room on `node`: every acked key is there, and no clock was acked twice. */
async function expectNothingLost(node: TestNode, roomId: string, writers: ClusterWriter[]): Promise<void> {
  const reader = await node.server.connect(roomId, `reader-${Math.random()}`);
  const { reply } = await reader.sync(0);
  const document = documentOf(reply);
  const clocks: number[] = [];
  for (const writer of writers) {
    for (const [key, clock] of writer.acked) {
      expect(document[key], `${key} acked at ${clock}`).toBeDefined();
      clocks.push(clock);
    }
  }
  expect(new Set(clocks).size).toBe(clocks.length);
  reader.close();
}

describe.skipIf(problem !== null && !IN_CI)('cluster hand-over (SPEC K7, K4)', () => {
  if (problem !== null) {
    console.warn(
      `Skipping the cluster hand-over tests: needs PostgreSQL and Redis (${HOW_TO_RUN_POSTGRES}): ${problem}`,
    );
  }

  it('[K7][K2] a rolling SIGTERM of every node hands each room over and loses no acked write', async () => {
    let nodes = await startCluster(3, LEASE_MS);
    const roomId = `rolling-${Math.random().toString(36).slice(2, 8)}`;
    const writers = Array.from({ length: 4 }, (_, i) => new ClusterWriter(() => nodes, roomId, `r${i}`));
    let running = true;
    const writing = writers.map(async (writer) => {
      for (let n = 0; running; n++) await writer.write(`${writer.clientId}-${n}`);
    });
    for (let round = 0; round < 3; round++) {
      // Let every writer get some writes acked on the current cluster.
      const before = writers.map((w) => w.acked.size);
      await Promise.all(
        writers.map(async (w, i) => {
          while (w.acked.size < (before[i] as number) + 3) await new Promise((r) => setTimeout(r, 20));
        }),
      );
      const victim = nodes[0] as TestNode;
      const exit = victim.server.stop('SIGTERM');
      nodes = nodes.slice(1);
      expect((await exit).code).toBe(0);
      nodes = [...nodes, await startNode(LEASE_MS)];
    }
    const after = writers.map((w) => w.acked.size);
    await Promise.all(
      writers.map(async (w, i) => {
        while (w.acked.size < (after[i] as number) + 3) await new Promise((r) => setTimeout(r, 20));
      }),
    );
    running = false;
    await Promise.all(writing);
    await expectNothingLost(nodes[0] as TestNode, roomId, writers);
    // Hand-overs close sessions with 1012, never with an error code.
    for (const writer of writers) {
      for (const code of writer.closes) expect([1012, 1001, 1006]).toContain(code);
    }
  });

  it('[K4] SIGKILL of a non-owner: its sessions vanish from clientCount on the other nodes', async () => {
    const nodes = await startCluster(3, LEASE_MS);
    const roomId = `vanish-${Math.random().toString(36).slice(2, 8)}`;
    const first = await (nodes[0] as TestNode).server.connect(roomId, 'first');
    await first.sync(0);
    const owner = await ownerOf(nodes, roomId);
    const others = nodes.filter((n) => n !== owner);
    const watcher = await owner.server.connect(roomId, 'watcher');
    await watcher.sync(0);
    const victim = others[0] as TestNode;
    const doomed = await Promise.all([0, 1].map((i) => victim.server.connect(roomId, `doomed-${i}`)));
    await Promise.all(doomed.map((c) => c.sync(0)));
    await watcher.waitFor('clientCount 4', () =>
      watcher.ofType('clientCount').at(-1)?.count === 4 ? true : undefined,
    );
    await victim.server.stop('SIGKILL');
    const expected = victim === nodes[0] ? 1 : 2;
    await watcher.waitFor(`clientCount ${expected}`, () =>
      watcher.ofType('clientCount').at(-1)?.count === expected ? true : undefined,
    );
  });
});
