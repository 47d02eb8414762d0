/**
 * Live sessions end when their token expires; `auth-refresh` (SPEC C5)
 * re-verifies a new token, replacing the deadline, permissions and metadata,
 * and an invalid refresh closes the session with 4403.
 */

import { CloseCode } from 'canvas-store-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  type StartedServer,
  shape,
  startServer,
  WireClient,
  waitForDate,
  waitUntil,
} from '../../harness/server-harness.js';
import { claims, epochIn, hsToken, OTHER_SECRET, SECRET } from './token-helpers.js';

afterEach(cleanupAll);

const ROOM = 'room-1';

function sessionsOf(started: StartedServer) {
  return started.server.manager.getExistingRoom(ROOM)?.getSessions() ?? [];
}

describe('token expiry of live sessions', () => {
  it('[C5] a session is closed with 4405 when its token expires, others stay', async () => {
    const started = await startServer({ jwtSecret: SECRET });
    const stayer = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'stayer',
      token: await hsToken(claims(ROOM)),
    });
    const exp = epochIn(3);
    const leaver = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'leaver',
      token: await hsToken(claims(ROOM, { exp })),
    });
    expect(await leaver.waitForClose()).toBe(CloseCode.TokenExpired);
    await waitUntil(() => sessionsOf(started).length === 1, 'the expired session to be removed');
    expect(sessionsOf(started).map((s) => s.clientId)).toEqual(['stayer']);
    expect(stayer.isOpen).toBe(true);
    // S1: the stayer saw the leaver arrive and go.
    await waitUntil(() => stayer.framesOf('clientCount').at(-1)?.count === 1, 'clientCount 1 after expiry');
    expect(stayer.framesOf('clientCount').map((f) => f.count)).toContain(2);
  });

  it('[C5] a refresh with a later exp keeps the session alive past the first exp', async () => {
    const started = await startServer({ jwtSecret: SECRET });
    const firstExp = epochIn(3);
    const client = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await hsToken(claims(ROOM, { exp: firstExp })),
    });
    const laterExp = epochIn(3600);
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM, { exp: laterExp })) });
    // Frames after a refresh wait for its verdict, so this ack means it was accepted.
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect(sessionsOf(started)[0]?.metadata).toMatchObject({ expiresAt: laterExp * 1000 });
    await waitForDate(firstExp * 1000 + 1500);
    const ack = await client.write('m2', [shape('e1/Shape', { x: 2 })]);
    expect(ack).toMatchObject({ type: 'ack', messageId: 'm2', timestamp: 2 });
    expect(client.closeCode).toBeUndefined();
    expect(client.isOpen).toBe(true);
  });

  it('[C5] a refresh with an earlier exp brings the deadline forward', async () => {
    const started = await startServer({ jwtSecret: SECRET });
    const client = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await hsToken(claims(ROOM, { exp: epochIn(3600) })),
    });
    const shortExp = epochIn(3);
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM, { exp: shortExp })) });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect(await client.waitForClose()).toBe(CloseCode.TokenExpired);
  });
});

describe('auth-refresh replaces permissions and metadata', () => {
  it('[C5] readwrite -> readonly: later writes are acked but not applied', async () => {
    const started = await startServer({ jwtSecret: SECRET });
    const observer = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'obs',
      token: await hsToken(claims(ROOM)),
    });
    const client = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await hsToken(claims(ROOM, { permission: 'readwrite' })),
    });
    expect((await client.write('m1', [shape('e1/Shape', { x: 1 })])).timestamp).toBe(1);
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM, { permission: 'readonly' })) });
    const ack = await client.write('m2', [shape('e1/Shape', { x: 2 }), shape('e2/Shape', { y: 1 })]);
    expect(ack).toMatchObject({ messageId: 'm2', timestamp: 1 });
    expect(sessionsOf(started).find((s) => s.clientId === 'c')?.permissions).toBe('readonly');
    expect(started.server.manager.getExistingRoom(ROOM)?.getSnapshot().state).toEqual({
      'e1/Shape': { _exists: true, x: 1 },
    });
    // The observer saw m1 only: a marker write from a third client arrives after it.
    const marker = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'marker',
      token: await hsToken(claims(ROOM)),
    });
    await marker.write('m3', [shape('e9/Shape', { z: 1 })]);
    await observer.waitForFrame((f) => f.clientId === 'marker' && f.type === 'patch', 'marker broadcast');
    expect(observer.documentPatches().map((f) => f.clientId)).toEqual(['c', 'marker']);
  });

  it('[C5] readonly -> readwrite: later writes are applied', async () => {
    const started = await startServer({ jwtSecret: SECRET });
    const client = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await hsToken(claims(ROOM, { permission: 'readonly' })),
    });
    expect((await client.write('m1', [shape('e1/Shape', { x: 1 })])).timestamp).toBe(0);
    client.send({ type: 'auth-refresh', token: await hsToken(claims(ROOM, { permission: 'readwrite' })) });
    expect((await client.write('m2', [shape('e1/Shape', { x: 2 })])).timestamp).toBe(1);
    expect(started.server.manager.getExistingRoom(ROOM)?.getSnapshot().state).toEqual({
      'e1/Shape': { _exists: true, x: 2 },
    });
  });

  it('[C5] the new token replaces the session metadata', async () => {
    const started = await startServer({ jwtSecret: SECRET });
    const client = await WireClient.join(started.port, {
      roomId: ROOM,
      clientId: 'c',
      token: await hsToken(claims(ROOM, { sub: 'u1', name: 'Old Name' })),
    });
    const exp = epochIn(7200);
    client.send({
      type: 'auth-refresh',
      token: await hsToken(claims(ROOM, { sub: 'u1', name: 'New', exp })),
    });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect(sessionsOf(started)[0]?.metadata).toEqual({ userId: 'u1', name: 'New', expiresAt: exp * 1000 });
  });
});

describe('auth-refresh with an invalid token', () => {
  const invalid: Array<[string, () => Promise<string>]> = [
    ['garbage', async () => 'not-a-jwt'],
    ['signed with another secret', () => hsToken(claims(ROOM), OTHER_SECRET)],
    ['for another room', () => hsToken(claims('room-2'))],
    ['expired', () => hsToken(claims(ROOM, { exp: epochIn(-60) }))],
    ['without exp', () => hsToken(claims(ROOM, { exp: undefined }))],
  ];

  for (const [what, makeToken] of invalid) {
    it(`[C5] a refresh token ${what} closes the session with 4403; later frames change nothing`, async () => {
      const started = await startServer({ jwtSecret: SECRET });
      const other = await WireClient.join(started.port, {
        roomId: ROOM,
        clientId: 'other',
        token: await hsToken(claims(ROOM)),
      });
      const client = await WireClient.join(started.port, {
        roomId: ROOM,
        clientId: 'c',
        token: await hsToken(claims(ROOM)),
      });
      client.send({ type: 'auth-refresh', token: await makeToken() });
      client.send({ type: 'patch', messageId: 'm1', documentPatches: [shape('e1/Shape', { x: 1 })] });
      expect(await client.waitForClose()).toBe(CloseCode.Forbidden);
      expect(client.framesOf('ack')).toEqual([]);
      await waitUntil(() => sessionsOf(started).length === 1, 'the refused session to be removed');
      expect(started.server.manager.getExistingRoom(ROOM)?.getSnapshot().state).toEqual({});
      expect(other.isOpen).toBe(true);
    });
  }
});
