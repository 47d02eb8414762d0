/**
 * JWT checks at connect time (HS256 shared secret): what is accepted with
 * which permission, and which close code each refusal carries.
 */

import { CloseCode } from 'canvas-store-protocol';
import { UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  type StartedServer,
  shape,
  startServer,
  WireClient,
} from '../../harness/server-harness.js';
import { claims, epochIn, hsToken, makeKeyPair, OTHER_SECRET, pairToken, SECRET } from './token-helpers.js';

afterEach(cleanupAll);

function hsServer(extra: Record<string, string> = {}): Promise<StartedServer> {
  return startServer({ jwtSecret: SECRET, ...extra });
}

async function expectRefused(
  { server, port }: StartedServer,
  roomId: string,
  token: string,
  code: number,
): Promise<void> {
  const client = await WireClient.refused(port, { roomId, clientId: 'intruder', token });
  expect(client.closeCode).toBe(code);
  // C2: a refused connection creates no session.
  expect(server.manager.getExistingRoom(roomId)?.getSessionCount() ?? 0).toBe(0);
  expect(client.framesOf('synced')).toEqual([]);
}

describe('JWT auth with an HS256 secret: accepted tokens', () => {
  it('[auth] a readwrite token may write: acked, applied and broadcast to others', async () => {
    const started = await hsServer();
    const token = await hsToken(claims('room-1', { permission: 'readwrite' }));
    const observer = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'obs', token });
    const writer = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'w', token });
    const ack = await writer.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect(ack).toEqual({ type: 'ack', messageId: 'm1', timestamp: 1 });
    const broadcast = await observer.waitForFrame(
      (f) => f.type === 'patch' && f.clientId === 'w',
      'broadcast',
    );
    expect(broadcast.documentPatches).toEqual([{ 'e1/Shape': { _exists: true, x: 1 } }]);
    const room = started.server.manager.getExistingRoom('room-1');
    expect(room?.getSnapshot().state).toEqual({ 'e1/Shape': { _exists: true, x: 1 } });
  });

  it('[A2] a readonly token is acked but its write is neither applied nor broadcast', async () => {
    const started = await hsServer();
    const rw = await hsToken(claims('room-1', { permission: 'readwrite' }));
    const ro = await hsToken(claims('room-1', { permission: 'readonly' }));
    const observer = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'obs', token: rw });
    const reader = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'ro', token: ro });
    const ack = await reader.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect(ack).toMatchObject({ type: 'ack', messageId: 'm1', timestamp: 0 });
    // A later readwrite write is the first document broadcast the observer sees.
    await observer.write('m2', [shape('e2/Shape', { y: 2 })]);
    const writer = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'w', token: rw });
    await writer.write('m3', [shape('e3/Shape', { z: 3 })]);
    await observer.waitForFrame((f) => f.type === 'patch' && f.clientId === 'w', 'broadcast of m3');
    expect(observer.documentPatches().map((f) => f.clientId)).toEqual(['w']);
    const state = started.server.manager.getExistingRoom('room-1')?.getSnapshot().state;
    expect(state).toEqual({ 'e2/Shape': { _exists: true, y: 2 }, 'e3/Shape': { _exists: true, z: 3 } });
  });

  it('[auth] a token without a permission claim is readonly', async () => {
    const started = await hsServer();
    const token = await hsToken(claims('room-1', { permission: undefined }));
    const client = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'c', token });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    const room = started.server.manager.getExistingRoom('room-1');
    expect(room?.getSessions().map((s) => s.permissions)).toEqual(['readonly']);
    expect(room?.getSnapshot().state).toEqual({});
  });

  it('[auth] sub and name become the session metadata (userId, name) with the expiry', async () => {
    const started = await hsServer();
    const exp = epochIn(1800);
    const token = await hsToken(claims('room-1', { sub: 'user-42', name: 'Ada', exp }));
    await WireClient.join(started.port, { roomId: 'room-1', clientId: 'c', token });
    const sessions = started.server.manager.getExistingRoom('room-1')?.getSessions() ?? [];
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      clientId: 'c',
      permissions: 'readwrite',
      metadata: { userId: 'user-42', name: 'Ada', expiresAt: exp * 1000 },
    });
  });
});

describe('JWT auth with an HS256 secret: refusals', () => {
  it('[C2] a token signed with another secret is refused with 4401', async () => {
    const started = await hsServer();
    await expectRefused(started, 'room-1', await hsToken(claims('room-1'), OTHER_SECRET), 4401);
  });

  it('[C2] a token that is not a JWT is refused with 4401', async () => {
    const started = await hsServer();
    await expectRefused(started, 'room-1', 'not-a-jwt', CloseCode.Unauthorized);
    await expectRefused(started, 'room-1', 'a.b.c', CloseCode.Unauthorized);
  });

  it('[C2] a token without exp is refused with 4401', async () => {
    const started = await hsServer();
    await expectRefused(started, 'room-1', await hsToken(claims('room-1', { exp: undefined })), 4401);
  });

  it('[C2] an unsigned (alg none) token is refused with 4401', async () => {
    const started = await hsServer();
    const token = new UnsecuredJWT(claims('room-1')).encode();
    await expectRefused(started, 'room-1', token, CloseCode.Unauthorized);
  });

  it('[C2] an RS256 token is refused with 4401 when HS256 is configured', async () => {
    const started = await hsServer();
    const pair = await makeKeyPair('RS256');
    await expectRefused(started, 'room-1', await pairToken(pair, claims('room-1')), 4401);
  });

  it('[C2] a token with an unknown permission claim is refused with 4401', async () => {
    const started = await hsServer();
    await expectRefused(started, 'room-1', await hsToken(claims('room-1', { permission: 'admin' })), 4401);
  });

  it('[C2] an expired token is refused with 4405', async () => {
    const started = await hsServer();
    const token = await hsToken(claims('room-1', { exp: epochIn(-60) }));
    await expectRefused(started, 'room-1', token, CloseCode.TokenExpired);
  });

  it('[C2] a token for another room is refused with 4403', async () => {
    const started = await hsServer();
    await expectRefused(started, 'room-1', await hsToken(claims('room-2')), CloseCode.Forbidden);
    await expectRefused(started, 'room-1', await hsToken(claims('room-10')), CloseCode.Forbidden);
  });

  it('[C2] a token without a room claim is refused with 4403', async () => {
    const started = await hsServer();
    await expectRefused(started, 'room-1', await hsToken(claims('room-1', { room: undefined })), 4403);
  });
});

describe('JWT auth: room patterns', () => {
  it("[auth] 'team-*' grants team-1 and team-a/b but not other rooms", async () => {
    const started = await hsServer();
    const token = await hsToken(claims('team-*'));
    for (const roomId of ['team-1', 'team-a/b', 'team-']) {
      const client = await WireClient.join(started.port, { roomId, clientId: 'c', token });
      await client.write('m1', [shape('e1/Shape', { x: 1 })]);
      expect(started.server.manager.getExistingRoom(roomId)?.getSnapshot().timestamp).toBe(1);
    }
    await expectRefused(started, 'other', token, CloseCode.Forbidden);
    await expectRefused(started, 'xteam-1', token, CloseCode.Forbidden);
    await expectRefused(started, 'team', token, CloseCode.Forbidden);
  });

  it('[auth] pattern characters other than * are literal', async () => {
    const started = await hsServer();
    const token = await hsToken(claims('a.b-*'));
    await WireClient.join(started.port, { roomId: 'a.b-1', clientId: 'c', token });
    await expectRefused(started, 'axb-1', token, CloseCode.Forbidden);
  });
});

describe('JWT auth: issuer and audience', () => {
  const checks = { jwtIssuer: 'https://issuer.test', jwtAudience: 'canvas' };

  it('[auth] a token with the configured iss and aud is accepted', async () => {
    const started = await hsServer(checks);
    const token = await hsToken(claims('room-1', { iss: 'https://issuer.test', aud: 'canvas' }));
    const client = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'c', token });
    expect((await client.write('m1', [shape('e1/Shape', { x: 1 })])).timestamp).toBe(1);
  });

  it('[auth] a wrong or missing iss is refused with 4401', async () => {
    const started = await hsServer(checks);
    const wrong = await hsToken(claims('room-1', { iss: 'https://evil.test', aud: 'canvas' }));
    await expectRefused(started, 'room-1', wrong, CloseCode.Unauthorized);
    const missing = await hsToken(claims('room-1', { aud: 'canvas' }));
    await expectRefused(started, 'room-1', missing, CloseCode.Unauthorized);
  });

  it('[auth] a wrong or missing aud is refused with 4401', async () => {
    const started = await hsServer(checks);
    const wrong = await hsToken(claims('room-1', { iss: 'https://issuer.test', aud: 'other' }));
    await expectRefused(started, 'room-1', wrong, CloseCode.Unauthorized);
    const missing = await hsToken(claims('room-1', { iss: 'https://issuer.test' }));
    await expectRefused(started, 'room-1', missing, CloseCode.Unauthorized);
  });
});
