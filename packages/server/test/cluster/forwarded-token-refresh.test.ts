/**
 * SPEC C5 on a forwarded session (issue 14): the client's socket, and with it
 * the token's expiry, lives on the node it connected to, while the room lives
 * on the owner. An `auth-refresh` through a non-owner must move the session's
 * deadline to the new token's expiry (later or earlier), and a refresh with a
 * bad token closes the session as on a single node.
 */
import { CloseCode } from 'canvas-store-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterNode, TestCluster } from '../harness/cluster-nodes.js';
import { cleanup, type WireClient } from '../harness/server-process.js';
import { claims, epochIn, hsToken, OTHER_SECRET, SECRET } from '../server/auth/token-helpers.js';

const ROOM = 'c5-forwarded';

/** Resolves once the wall clock passed `ms` since the epoch (token expiry is wall-clock time). */
function until(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));
}

describe('C5: token refresh of a session forwarded to the owner', () => {
  let cluster: TestCluster;
  let owner: ClusterNode;
  let forwarding: ClusterNode;
  let anchor: WireClient;
  let n = 0;

  /** A client of ROOM on the non-owner node with a token expiring at `exp` (seconds). */
  async function forwardedClient(exp: number): Promise<WireClient> {
    const client = await forwarding.server.connect(ROOM, `c${++n}`, {
      token: await hsToken(claims(ROOM, { exp })),
    });
    await client.sync(0);
    return client;
  }

  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 2, label: 'c5fwd', args: ['--jwt-secret', SECRET] });
    await cluster.ready();
    const first = cluster.pick(0);
    anchor = await first.server.connect(ROOM, 'anchor', { token: await hsToken(claims(ROOM)) });
    await anchor.sync(0);
    owner = await cluster.ownerOf(ROOM);
    forwarding = await cluster.nonOwnerOf(ROOM);
  });
  afterAll(async () => {
    await cluster?.stop();
    await cleanup();
  });

  it('[C5] a refresh with a later exp keeps the forwarded session alive past the first exp', async () => {
    const firstExp = epochIn(3);
    const client = await forwardedClient(firstExp);
    expect(owner).not.toBe(forwarding);
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM, { exp: epochIn(3600) })) });
    // Frames after a refresh wait for its verdict on the owner: this ack means it was accepted.
    expect((await client.write([{ before: { _exists: true, v: 1 } }])).type).toBe('ack');
    await until(firstExp * 1000 + 1500);
    const ack = await client.write([{ after: { _exists: true, v: 2 } }]);
    expect(ack.type).toBe('ack');
    expect(client.closeInfo).toBeUndefined();
    client.close();
  });

  it("[C5] a refresh with an earlier exp brings the forwarded session's deadline forward", async () => {
    const client = await forwardedClient(epochIn(3600));
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM, { exp: epochIn(3) })) });
    expect((await client.write([{ short: { _exists: true, v: 1 } }])).type).toBe('ack');
    expect((await client.closed()).code).toBe(CloseCode.TokenExpired);
  });

  it('[C5] a refresh with a bad token closes the forwarded session as on a single node; others stay', async () => {
    const client = await forwardedClient(epochIn(3600));
    const other = await forwardedClient(epochIn(3600));
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM), OTHER_SECRET) });
    expect((await client.closed()).code).toBe(CloseCode.Forbidden);
    expect((await other.write([{ still: { _exists: true, v: 1 } }])).type).toBe('ack');
    expect(other.closeInfo).toBeUndefined();
    other.close();
  });
});
