/**
 * K3 for reconnects (issue 14): a client that reconnects to another node than
 * the one it left gets the D7 reply the owner computes (exactly the fields
 * stamped after its last clock, then `synced` at the room clock), and the D8
 * rollback heal (a client ahead of the room gets `resync` with the room's
 * clock, then its patch is applied) works through a forwarding node too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../harness/cluster-nodes.js';
import { roomOn } from '../harness/cluster-writers.js';
import { cleanup, documentOf } from '../harness/server-process.js';

const ROOM = 'k3-reconnect';

describe('K3: reconnect to another node (D7, D8)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 3, label: 'k3reconn' });
    await cluster.ready();
  });
  afterAll(async () => {
    await cluster?.stop();
    await cleanup();
  });

  it('K3 D7: the reconnect reply on another node holds exactly what was stamped after lastTimestamp', async () => {
    const [a, b, c] = [cluster.pick(0), cluster.pick(1), cluster.pick(2)];
    const leaver = await a.server.connect(ROOM, 'leaver');
    await leaver.sync(0);
    await leaver.write([{ mine: { _exists: true, v: 1 }, shared: { _exists: true, a: 1, b: 1 } }]);
    const left = (await leaver.write([{ mine: { v: 2 } }])).timestamp as number;
    leaver.close();
    await leaver.closed();
    const other = await b.server.connect(ROOM, 'other');
    await other.sync(0);
    await other.write([{ theirs: { _exists: true, v: 3 } }]);
    const last = (await other.write([{ shared: { b: 2 } }])).timestamp as number;

    const back = await c.server.connect(ROOM, 'leaver');
    const { reply, synced } = await back.sync(left);
    expect(synced.timestamp).toBe(last);
    // Only what changed after `left`: the new key whole, the one changed field of `shared`.
    expect(documentOf(reply)).toEqual({ theirs: { _exists: true, v: 3 }, shared: { b: 2 } });
    expect(reply?.timestamp).toBe(last);
  });

  it('K3 D8: a client ahead of the room is told `resync` with the room clock through a forwarding node, and its answer heals the room', async () => {
    // The room has an owner while a session is open: one of its own, so this test does not lean on the first.
    const opener = await cluster.pick(0).server.connect(ROOM, 'opener');
    await opener.sync(0);
    const owner = await cluster.ownerOf(ROOM);
    const forwarding = await cluster.nonOwnerOf(ROOM);
    const probe = await owner.server.connect(ROOM, 'probe');
    const clock = (await probe.sync(0)).synced.timestamp as number;
    const ahead = await forwarding.server.connect(ROOM, 'ahead');
    const from = ahead.frames.length;
    ahead.send({ type: 'reconnect', lastTimestamp: clock + 1000, protocolVersion: 2 });
    const resync = await ahead.waitForFrame('resync', (f) => f.type === 'resync', from);
    expect(resync.since).toBe(clock);
    await ahead.waitForFrame('synced', (f) => f.type === 'synced', from);
    const ack = await ahead.write([{ healed: { _exists: true, v: 'from the client' } }]);
    expect(ack.timestamp).toBe(clock + 1);
    await probe.waitForFrame('the heal broadcast', (f) => f.type === 'patch' && f.clientId === 'ahead');
    for (let i = 0; i < 3; i++) {
      expect((await roomOn(cluster, i, ROOM)).healed).toEqual({ _exists: true, v: 'from the client' });
    }
  });
});
