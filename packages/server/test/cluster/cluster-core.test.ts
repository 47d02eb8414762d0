import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  documentOf,
  type Patch,
  runCli,
  ServerProcess,
  type WireClient,
  waitUntil,
} from '../harness/server-process.js';
import { HOW_TO_RUN_POSTGRES, IN_CI, postgresProblem } from '../helpers/postgres.js';
import {
  clockSequence,
  ownerOf,
  redisProblem,
  startCluster,
  type TestNode,
  waitForMembershipToClear,
} from './core-cluster.js';

const LEASE_MS = 1_000;
const ADMIN_SECRET = 'cluster-admin-secret-1234';
const problem = (await postgresProblem()) ?? (await redisProblem());
const roomName = (what: string) => `${what}-${Math.random().toString(36).slice(2, 8)}`;

/** Connects a wire client to `node` and completes the handshake (`reconnect` from 0). */
async function join(node: TestNode, roomId: string, clientId: string): Promise<WireClient> {
  const client = await node.server.connect(roomId, clientId);
  await client.sync(0);
  return client;
}

afterEach(async () => {
  await cleanup();
  await waitForMembershipToClear(LEASE_MS);
});

describe.skipIf(problem !== null && !IN_CI)('cluster core (SPEC K1-K4, K8)', () => {
  if (problem !== null) {
    console.warn(
      `Skipping the cluster tests: needs PostgreSQL and Redis (${HOW_TO_RUN_POSTGRES}): ${problem}`,
    );
  }

  it('[K1][K3][D1][A1] writers on every node share one clock: each clock acked once, one patch per clock everywhere', async () => {
    const nodes = await startCluster(3, LEASE_MS, ['--admin-secret', ADMIN_SECRET]);
    const roomId = roomName('one-clock');
    const clients: WireClient[] = [];
    for (const [n, node] of nodes.entries()) {
      for (let c = 0; c < 2; c++) clients.push(await join(node, roomId, `n${n}c${c}`));
    }
    const perClient = 15;
    const sent = new Map<string, Patch>();
    const pendingAcks = clients.map((client, i) =>
      Array.from({ length: perClient }, (_, j) => {
        const patch: Patch = { [`w${i}-${j}`]: { _exists: true, by: i, n: j } };
        const messageId = client.sendPatch([patch]);
        sent.set(`${i}:${messageId}`, patch);
        return client.waitForFrame(`ack ${messageId}`, (f) => f.type === 'ack' && f.messageId === messageId);
      }),
    );
    const acks = await Promise.all(pendingAcks.map((list) => Promise.all(list)));
    const total = clients.length * perClient;
    const ackedClocks = acks.flat().map((ack) => ack.timestamp as number);
    expect(new Set(ackedClocks).size).toBe(total);
    expect([...ackedClocks].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, k) => k + 1));

    // The patch of each clock, as its writer sent it.
    const patchOfClock = new Map<number, string>();
    for (const [i, list] of acks.entries()) {
      for (const ack of list) {
        patchOfClock.set(ack.timestamp as number, JSON.stringify(sent.get(`${i}:${ack.messageId}`)));
      }
    }
    for (const [i, client] of clients.entries()) {
      await client.waitFor('every other write broadcast', () => {
        const seen = client.frames.filter(
          (f) => f.type === 'patch' && f.clientId !== '' && f.documentPatches,
        );
        return seen.length === total - perClient ? true : undefined;
      });
      for (const frame of client.frames.filter((f) => f.type === 'patch' && f.clientId !== '')) {
        const patches = frame.documentPatches as Patch[];
        expect(JSON.stringify(patches[0]), `client ${i}, clock ${frame.timestamp}`).toBe(
          patchOfClock.get(frame.timestamp as number),
        );
      }
      // O2, O3 per session, whatever node it is on: acks and broadcasts in strictly increasing clock order.
      const sequence = clockSequence(client.frames);
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
      expect(new Set(sequence).size).toBe(sequence.length);
    }

    // Every node sees the same document.
    for (const node of nodes) {
      const reader = await node.server.connect(roomId, `reader-${node.id}`);
      const { reply } = await reader.sync(0);
      expect(Object.keys(documentOf(reply)).length).toBe(total);
    }

    // The admin API names the owner, from any node.
    const owner = await ownerOf(nodes, roomId);
    for (const node of nodes) {
      const response = await fetch(`http://127.0.0.1:${node.server.port}/admin/cluster`, {
        headers: { authorization: `Bearer ${ADMIN_SECRET}` },
      });
      const body = (await response.json()) as { rooms: Array<{ roomId: string; node: string }> };
      expect(body.rooms.find((r) => r.roomId === roomId)?.node).toBe(owner.id);
    }
  });

  it('[K3][S1][E1] clientCount and presence are room-wide across nodes', async () => {
    const nodes = await startCluster(3, LEASE_MS);
    const roomId = roomName('presence');
    const clients = await Promise.all(nodes.map((node, n) => join(node, roomId, `p${n}`)));
    for (const client of clients) {
      await client.waitFor('clientCount 3', () =>
        client.ofType('clientCount').at(-1)?.count === 3 ? true : undefined,
      );
    }
    const [first, second, third] = clients as [WireClient, WireClient, WireClient];
    await first.write([{ note: { _exists: true } }], [{ 'cursor-p0': { x: 1, y: 2 } }]);
    await third.waitForFrame('p0 presence', (f) =>
      JSON.stringify(f.ephemeralPatches ?? []).includes('cursor-p0'),
    );
    second.close();
    for (const client of [first, third]) {
      await client.waitFor('clientCount 2', () =>
        client.ofType('clientCount').at(-1)?.count === 2 ? true : undefined,
      );
    }
    first.close();
    await third.waitFor('clientCount 1', () =>
      third.ofType('clientCount').at(-1)?.count === 1 ? true : undefined,
    );
  });

  it('[K4][K2] SIGKILL of the owner: another node takes over from PostgreSQL, no acked write is lost, no clock reused', async () => {
    const nodes = await startCluster(3, LEASE_MS);
    const roomId = roomName('takeover');
    const probe = await join(nodes[0] as TestNode, roomId, 'probe');
    const owner = await ownerOf(nodes, roomId);
    const survivors = nodes.filter((n) => n !== owner);
    probe.close();
    const writers = await Promise.all(
      [...survivors, ...survivors, owner].map((node, i) => join(node, roomId, `k${i}`)),
    );
    const acked = new Map<string, number>();
    await Promise.all(
      writers.map(async (writer, i) => {
        for (let j = 0; j < 10; j++) {
          const ack = await writer.write([{ [`before-${i}-${j}`]: { _exists: true, j } }]);
          acked.set(`before-${i}-${j}`, ack.timestamp as number);
        }
      }),
    );
    const lastAckedClock = Math.max(...acked.values());
    const killedAt = performance.now();
    await owner.server.stop('SIGKILL');

    // Sessions on surviving nodes are closed (1012) once the owner's membership expires.
    for (const writer of writers.slice(0, survivors.length * 2)) {
      expect((await writer.closed()).code).toBe(1012);
    }
    // A reconnect to a surviving node is served once a new owner took the lease.
    const reader = await waitUntil('a surviving node serving the room', async () => {
      const client = await join(survivors[0] as TestNode, roomId, 'after').catch(() => undefined);
      return client?.closeInfo === undefined ? client : undefined;
    });
    const writable = await reader.write([{ after: { _exists: true } }]);
    const writableAfterMs = performance.now() - killedAt;
    console.info(
      `[K4] writable again ${Math.round(writableAfterMs)} ms after SIGKILL (lease ${LEASE_MS} ms)`,
    );
    expect(writable.timestamp as number).toBeGreaterThan(lastAckedClock);
    const newOwner = await ownerOf(survivors, roomId);
    expect(survivors).toContain(newOwner);

    const { reply } = await (await join(survivors[1] as TestNode, roomId, 'check')).sync(0);
    const document = documentOf(reply);
    for (const key of acked.keys()) expect(document[key], key).toBeDefined();
    expect(document.after).toBeDefined();
  });

  it('[K8] without --redis-url nothing changes: SQLite by default, no cluster in /readyz or /metrics', async () => {
    const server = await ServerProcess.start();
    const ready = JSON.parse((await server.get('/readyz')).text) as Record<string, unknown>;
    expect(ready).toEqual({ status: 'ready', storage: 'sqlite', shuttingDown: false });
    const metrics = await server.metrics();
    expect(metrics.some((s) => s.name.startsWith('canvas_cluster_'))).toBe(false);
    const client = await server.connect('k8', 'solo');
    await client.sync(0);
    expect((await client.write([{ a: { _exists: true } }])).timestamp).toBe(1);
  });

  it('[K8] --redis-url needs --storage postgres and --postgres-url: exit 2 naming the flag', async () => {
    const result = await runCli(['--redis-url', 'redis://127.0.0.1:6379']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--redis-url');
    expect(result.stderr).toContain('--storage postgres');
    const lease = await runCli(['--cluster-lease-ms', '10']);
    expect(lease.code).toBe(2);
    expect(lease.stderr).toContain('--cluster-lease-ms');
  });
});
