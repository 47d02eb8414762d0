/**
 * The admin API's access rules (disabled without a secret, bearer required)
 * and its read endpoints: rooms, one room's sessions, the live document.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../src/server/index.js';
import { cleanupAll, shape, startServer, WireClient } from '../../harness/server-harness.js';
import { ADMIN_SECRET, admin, getDocument, roomPath } from './admin-helpers.js';

afterEach(cleanupAll);

const JWT_SECRET = 'jwt-secret-for-admin-tests-0123456789abcdef';

describe('admin API access', () => {
  it('[admin] without --admin-secret every /admin path answers 404, whatever the bearer', async () => {
    const { port } = await startServer();
    for (const path of ['/admin', '/admin/rooms', '/admin/rooms/r', '/admin/rooms/r/document']) {
      expect((await admin(port, path)).status).toBe(404);
      expect((await admin(port, path, { secret: null })).status).toBe(404);
    }
    const post = await admin(port, '/admin/rooms/r/patches', {
      method: 'POST',
      json: { patches: [{ k: {} }] },
    });
    expect(post.status).toBe(404);
  });

  it('[admin] an admin secret shorter than 16 characters is a configuration error', () => {
    expect(() => parseServerConfig({ adminSecret: 'too-short' })).toThrow(/adminSecret/);
  });

  it('[admin] a missing or wrong bearer gets 401 on every endpoint and changes nothing', async () => {
    // 42 wrong secrets from one address: raise the guessing throttle (tested in test/abuse) out of the way.
    const { server, port } = await startServer({ adminSecret: ADMIN_SECRET, adminFailuresPerMinute: 1_000 });
    const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    const sessionId = server.manager.getExistingRoom('r')?.getSessions()[0]?.sessionId as string;
    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', '/admin/rooms'],
      ['GET', roomPath('r')],
      ['GET', roomPath('r', '/document')],
      ['POST', roomPath('r', '/patches'), { patches: [shape('e1/Shape', { x: 1 })] }],
      ['DELETE', roomPath('r', `/sessions/${sessionId}`)],
      ['DELETE', roomPath('r')],
    ];
    const badAuth = [
      { secret: null },
      { secret: 'wrong-secret-of-enough-length' },
      { secret: `${ADMIN_SECRET}x` },
      { secret: ADMIN_SECRET.slice(0, -1) },
      { authorization: ADMIN_SECRET },
      { authorization: `Basic ${ADMIN_SECRET}` },
      { authorization: `bearer${ADMIN_SECRET}` },
    ];
    for (const [method, path, json] of endpoints) {
      for (const auth of badAuth) {
        const res = await admin(port, path, { method, json, ...auth });
        expect(res.status, `${method} ${path} ${JSON.stringify(auth)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect(client.isOpen).toBe(true);
    expect(server.manager.getExistingRoom('r')?.getSnapshot().timestamp).toBe(0);
    expect(server.manager.getExistingRoom('r')?.getSessionCount()).toBe(1);
  });

  it('[admin] unknown routes answer 404 and wrong methods 405', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    expect((await admin(port, '/admin')).status).toBe(404);
    expect((await admin(port, '/admin/other')).status).toBe(404);
    expect((await admin(port, roomPath('r', '/unknown'))).status).toBe(404);
    expect((await admin(port, '/admin/rooms', { method: 'POST', json: {} })).status).toBe(405);
    expect((await admin(port, roomPath('r'), { method: 'PUT', json: {} })).status).toBe(405);
    expect((await admin(port, roomPath('r', '/document'), { method: 'DELETE' })).status).toBe(405);
    expect((await admin(port, roomPath('r', '/patches'))).status).toBe(405);
    expect((await admin(port, roomPath('r', '/sessions/x'))).status).toBe(405);
  });

  it('[admin] a malformed percent-encoding in the path answers 400', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    expect((await admin(port, '/admin/rooms/%E0%A4%A')).status).toBe(400);
  });
});

describe('admin API: reading rooms', () => {
  it('[admin] GET /admin/rooms lists open rooms with session counts and clocks', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    expect((await admin(port, '/admin/rooms')).body).toEqual({ rooms: [] });
    const a1 = await WireClient.join(port, { roomId: 'room-a', clientId: 'a1', token: 't' });
    await WireClient.join(port, { roomId: 'room-a', clientId: 'a2', token: 't' });
    await WireClient.join(port, { roomId: 'room-b', clientId: 'b1', token: 't' });
    await a1.write('m1', [shape('e1/Shape', { x: 1 })]);
    await a1.write('m2', [shape('e1/Shape', { x: 2 })]);
    const res = await admin(port, '/admin/rooms');
    expect(res.status).toBe(200);
    const rooms = (res.body as { rooms: Array<{ roomId: string }> }).rooms;
    expect([...rooms].sort((x, y) => x.roomId.localeCompare(y.roomId))).toEqual([
      { roomId: 'room-a', sessions: 2, clock: 2 },
      { roomId: 'room-b', sessions: 1, clock: 0 },
    ]);
  });

  it('[admin] GET /admin/rooms/:roomId gives the clock and each session with its permissions and metadata', async () => {
    const { server, port } = await startServer({ adminSecret: ADMIN_SECRET, jwtSecret: JWT_SECRET });
    const { SignJWT } = await import('jose');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const key = new TextEncoder().encode(JWT_SECRET);
    const token = (permission: string, sub: string, name: string) =>
      new SignJWT({ room: 'r', permission, sub, name, exp }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const writer = await WireClient.join(port, {
      roomId: 'r',
      clientId: 'w',
      token: await token('readwrite', 'u1', 'Ada'),
    });
    await WireClient.join(port, { roomId: 'r', clientId: 'v', token: await token('readonly', 'u2', 'Bob') });
    await writer.write('m1', [shape('e1/Shape', { x: 1 })]);
    const res = await admin(port, roomPath('r'));
    expect(res.status).toBe(200);
    const body = res.body as { roomId: string; clock: number; sessions: Array<{ clientId: string }> };
    expect(body.roomId).toBe('r');
    expect(body.clock).toBe(1);
    const ids = server.manager
      .getExistingRoom('r')
      ?.getSessions()
      .map((s) => s.sessionId);
    expect([...body.sessions].sort((x, y) => x.clientId.localeCompare(y.clientId))).toEqual([
      {
        sessionId: ids?.[1],
        clientId: 'v',
        permissions: 'readonly',
        metadata: { userId: 'u2', name: 'Bob', expiresAt: exp * 1000 },
      },
      {
        sessionId: ids?.[0],
        clientId: 'w',
        permissions: 'readwrite',
        metadata: { userId: 'u1', name: 'Ada', expiresAt: exp * 1000 },
      },
    ]);
  });

  it('[admin] GET /admin/rooms/:roomId of a room with no sessions answers its stored clock and no sessions', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const res = await admin(port, roomPath('fresh'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ roomId: 'fresh', clock: 0, sessions: [] });
  });

  it('[D10] GET /admin/rooms/:roomId/document is the live document after a client write', async () => {
    const { server, port } = await startServer({ adminSecret: ADMIN_SECRET });
    const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    await client.write('m1', [shape('e1/Shape', { x: 1, y: 2 }), shape('e2/Shape', { z: 0 })]);
    await client.write('m2', [{ 'e1/Shape': { y: 3 } }, { 'e2/Shape': { _exists: false } }]);
    const doc = await getDocument(port, 'r');
    expect(doc).toEqual({
      timestamp: 2,
      state: { 'e1/Shape': { _exists: true, x: 1, y: 3 } },
      timestamps: { 'e1/Shape': { _exists: 1, x: 1, y: 2 } },
    });
    expect(doc).toEqual(server.manager.getExistingRoom('r')?.getSnapshot());
  });
});

describe('admin routes are exact', () => {
  it('[admin] a path with extra segments after a session id is not found and closes nothing', async () => {
    const { server, port } = await startServer({ adminSecret: ADMIN_SECRET });
    await WireClient.join(port, { roomId: 'extra', clientId: 'c1', token: 't' });
    const room = server.manager.getExistingRoom('extra');
    const sessionId = room?.getSessions()[0]?.sessionId ?? '';
    const res = await admin(port, `/admin/rooms/extra/sessions/${sessionId}/anything`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(room?.getSessionCount()).toBe(1);
  });
});
