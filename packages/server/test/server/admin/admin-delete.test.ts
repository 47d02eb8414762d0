/**
 * DELETE endpoints of the admin API (closing one session, deleting a room and
 * its stored data) and room ids that need URL encoding.
 */

import { CloseCode } from 'canvas-store-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  makeTempDir,
  shape,
  startServer,
  stopServer,
  WireClient,
  waitUntil,
} from '../../harness/server-harness.js';
import { ADMIN_SECRET, admin, getDocument, postPatches, roomPath } from './admin-helpers.js';

afterEach(cleanupAll);

type RoomBody = { roomId: string; clock: number; sessions: Array<{ sessionId: string; clientId: string }> };

async function sessionIdOf(port: number, roomId: string, clientId: string): Promise<string> {
  const body = (await admin(port, roomPath(roomId))).body as RoomBody;
  const session = body.sessions.find((s) => s.clientId === clientId);
  if (!session) throw new Error(`no session of ${clientId} in ${roomId}`);
  return session.sessionId;
}

describe('admin API: closing a session', () => {
  it('[admin] DELETE /admin/rooms/:roomId/sessions/:sessionId closes that socket with 4403', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const victim = await WireClient.join(port, { roomId: 'r', clientId: 'victim', token: 't' });
    const bystander = await WireClient.join(port, { roomId: 'r', clientId: 'bystander', token: 't' });
    const sessionId = await sessionIdOf(port, 'r', 'victim');
    const res = await admin(port, roomPath('r', `/sessions/${encodeURIComponent(sessionId)}`), {
      method: 'DELETE',
    });
    expect(res.status).toBe(204);
    expect(await victim.waitForClose()).toBe(CloseCode.Forbidden);
    // S1: the room dropped the session and told the others.
    await waitUntil(() => bystander.framesOf('clientCount').at(-1)?.count === 1, 'clientCount 1');
    const body = (await admin(port, roomPath('r'))).body as RoomBody;
    expect(body.sessions.map((s) => s.clientId)).toEqual(['bystander']);
    expect(bystander.isOpen).toBe(true);
    expect((await bystander.write('m1', [shape('e1/Shape', { x: 1 })])).timestamp).toBe(1);
  });

  it('[admin] an unknown session, or a room that is not open, answers 404', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    const sessionId = await sessionIdOf(port, 'r', 'c');
    expect((await admin(port, roomPath('r', '/sessions/no-such-session'), { method: 'DELETE' })).status).toBe(
      404,
    );
    // The session exists, but in another room.
    const elsewhere = await admin(port, roomPath('not-open', `/sessions/${sessionId}`), { method: 'DELETE' });
    expect(elsewhere.status).toBe(404);
    expect(client.isOpen).toBe(true);
  });
});

describe('admin API: deleting a room', () => {
  it('[admin] DELETE /admin/rooms/:roomId closes its sessions and deletes its stored data (sqlite)', async () => {
    const dataDir = makeTempDir();
    const config = { adminSecret: ADMIN_SECRET, storage: 'sqlite' as const, dataDir };
    const first = await startServer(config);
    const a = await WireClient.join(first.port, { roomId: 'doomed', clientId: 'a', token: 't' });
    const b = await WireClient.join(first.port, { roomId: 'doomed', clientId: 'b', token: 't' });
    const keeper = await WireClient.join(first.port, { roomId: 'kept', clientId: 'k', token: 't' });
    await a.write('m1', [shape('e1/Shape', { x: 1 })]);
    await a.write('m2', [shape('e2/Shape', { x: 2 }), { 'e1/Shape': { _exists: false } }]);
    await keeper.write('k1', [shape('k/Shape', { v: 1 })]);

    const res = await admin(first.port, roomPath('doomed'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await a.waitForClose()).toBe(CloseCode.GoingAway);
    expect(await b.waitForClose()).toBe(CloseCode.GoingAway);
    const listed = (await admin(first.port, '/admin/rooms')).body as { rooms: Array<{ roomId: string }> };
    expect(listed.rooms.map((r) => r.roomId)).toEqual(['kept']);

    // Reopened in the same process: an empty document, and a client with an old clock learns nothing.
    const again = await WireClient.join(first.port, { roomId: 'doomed', clientId: 'a', token: 't' });
    expect(again.documentPatches()).toEqual([]);
    expect(again.framesOf('synced')).toEqual([{ type: 'synced', timestamp: 0 }]);
    expect(await getDocument(first.port, 'doomed')).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    again.close();
    await again.waitForClose();
    expect(keeper.isOpen).toBe(true);

    // After a restart the data is still gone, and the other room is intact.
    await stopServer(first.server);
    const second = await startServer(config);
    expect(await getDocument(second.port, 'doomed')).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    const reader = await WireClient.join(second.port, { roomId: 'doomed', clientId: 'r', token: 't' });
    expect(reader.documentPatches()).toEqual([]);
    expect((await getDocument(second.port, 'kept')).state).toEqual({ 'k/Shape': { _exists: true, v: 1 } });
  });

  it('[admin] a client reconnecting the moment its socket closes finds the room empty (sqlite)', async () => {
    const dataDir = makeTempDir();
    const config = { adminSecret: ADMIN_SECRET, storage: 'sqlite' as const, dataDir };
    const first = await startServer(config);
    const client = await WireClient.join(first.port, { roomId: 'r', clientId: 'c', token: 't' });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    // Like the published client: reconnect as soon as the close arrives.
    const reconnected = new Promise<WireClient>((resolve, reject) => {
      client.ws.once('close', () => {
        WireClient.join(first.port, { roomId: 'r', clientId: 'c', token: 't' }).then(resolve, reject);
      });
    });
    expect((await admin(first.port, roomPath('r'), { method: 'DELETE' })).status).toBe(204);
    const again = await reconnected;
    expect(again.documentPatches()).toEqual([]);
    expect(await getDocument(first.port, 'r')).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    await stopServer(first.server);
    const second = await startServer(config);
    expect(await getDocument(second.port, 'r')).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });

  it('[admin] deleting a room that is not open deletes its stored data too (sqlite)', async () => {
    const dataDir = makeTempDir();
    const config = { adminSecret: ADMIN_SECRET, storage: 'sqlite' as const, dataDir };
    const first = await startServer(config);
    expect((await postPatches(first.port, 'cold', [shape('e1/Shape', { x: 1 })])).status).toBe(200);
    await stopServer(first.server);
    const second = await startServer(config);
    expect((await admin(second.port, roomPath('cold'), { method: 'DELETE' })).status).toBe(204);
    expect(await getDocument(second.port, 'cold')).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });

  it('[admin] deleting a room with memory storage forgets its data', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect((await admin(port, roomPath('r'), { method: 'DELETE' })).status).toBe(204);
    expect(await client.waitForClose()).toBe(CloseCode.GoingAway);
    expect(await getDocument(port, 'r')).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });
});

describe('admin API: room ids that need encoding', () => {
  for (const roomId of ['a b/c', 'ünï cødé?#&=', '50%/..']) {
    it(`[admin] every endpoint works for the room id ${JSON.stringify(roomId)}`, async () => {
      const dataDir = makeTempDir();
      const { port } = await startServer({ adminSecret: ADMIN_SECRET, storage: 'sqlite', dataDir });
      const writer = await WireClient.join(port, { roomId, clientId: 'w', token: 't' });
      const victim = await WireClient.join(port, { roomId, clientId: 'v', token: 't' });
      await writer.write('m1', [shape('e1/Shape', { x: 1 })]);

      const rooms = (await admin(port, '/admin/rooms')).body as { rooms: unknown[] };
      expect(rooms.rooms).toEqual([{ roomId, sessions: 2, clock: 1 }]);
      const room = (await admin(port, roomPath(roomId))).body as RoomBody;
      expect(room.roomId).toBe(roomId);
      expect(room.sessions.map((s) => s.clientId).sort()).toEqual(['v', 'w']);
      expect((await getDocument(port, roomId)).state).toEqual({ 'e1/Shape': { _exists: true, x: 1 } });

      expect((await postPatches(port, roomId, [{ 'e1/Shape': { x: 2 } }])).body).toEqual({ timestamp: 2 });
      await writer.waitForFrame((f) => f.clientId === '' && f.timestamp === 2, 'server patch');
      const sessionId = room.sessions.find((s) => s.clientId === 'v')?.sessionId as string;
      const closed = await admin(port, roomPath(roomId, `/sessions/${sessionId}`), { method: 'DELETE' });
      expect(closed.status).toBe(204);
      expect(await victim.waitForClose()).toBe(CloseCode.Forbidden);
      expect(writer.isOpen).toBe(true);

      expect((await admin(port, roomPath(roomId), { method: 'DELETE' })).status).toBe(204);
      expect(await writer.waitForClose()).toBe(CloseCode.GoingAway);
      expect(await getDocument(port, roomId)).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    });
  }
});
