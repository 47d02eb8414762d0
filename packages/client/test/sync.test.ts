import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents } from '../src/index.js';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { socketGate } from './helpers/gated-socket.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

function patchFramesFrom(clientId: string): Array<Record<string, unknown>> {
  return (server?.framesOfType('patch') ?? []).filter((f) => String(f.messageId).startsWith(`${clientId}-`));
}

describe('basic sync', () => {
  it('[client] edits of one client reach the others and the server', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room');
    const b = makeClient(server.url, 'room');
    const c = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced(), c.whenSynced()]);
    expect(a.status).toBe('online');
    await eventually(() => a.clientCount === 3);
    a.set('e1/Rect', { x: 1, y: 2 });
    b.set('e2/Rect', { x: 3 });
    await eventually(() => c.get('e1/Rect')?.x === 1 && c.get('e2/Rect')?.x === 3);
    a.set('e2/Rect', { y: 9 });
    c.delete('e1/Rect');
    const room = await server.room('room');
    await eventually(() => {
      const state = room.getSnapshot().state;
      for (const client of [a, b, c]) expect(documentOf(client)).toEqual(state);
    });
    expect(a.get('e2/Rect')).toEqual({ _exists: true, x: 3, y: 9 });
    expect(a.get('e1/Rect')).toBeUndefined();
    expect(a.document.has('e1/Rect')).toBe(false);
  });

  it('[client] a late joiner receives the whole document; remote changes are reported as change events', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room');
    await a.whenSynced();
    a.set('e1/Rect', { x: 1 });
    a.set('e2/Rect', { x: 2 });
    a.delete('e2/Rect');
    await eventually(() => a.pendingCount === 0);
    const b = makeClient(server.url, 'room');
    const changes: Array<ClientEvents['change']> = [];
    b.on('change', (event) => changes.push(event));
    await b.whenSynced();
    expect(documentOf(b)).toEqual({ 'e1/Rect': { _exists: true, x: 1 } });
    expect(changes).toContainEqual({ keys: ['e1/Rect'], origin: 'remote' });
  });

  it('[client] edits of the same tick travel in one patch frame, numbered <clientId>-<n>', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    await a.whenSynced();
    a.set('e1/Rect', { x: 1 });
    a.set('e1/Rect', { y: 2 });
    a.set('e2/Rect', { x: 3 });
    a.delete('e3/Rect');
    await eventually(() => a.pendingCount === 0);
    const frames = patchFramesFrom('alice');
    expect(frames).toHaveLength(1);
    expect(frames[0]?.messageId).toMatch(/^alice-\d+$/);
    expect(frames[0]?.documentPatches).toEqual([
      {
        'e1/Rect': { _exists: true, x: 1, y: 2 },
        'e2/Rect': { _exists: true, x: 3 },
        'e3/Rect': { _exists: false },
      },
    ]);
  });

  it('[client] transact reports its edits in one change event and sends them in one frame', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    await a.whenSynced();
    const changes: Array<ClientEvents['change']> = [];
    a.on('change', (event) => changes.push(event));
    a.transact(() => {
      a.set('e1/Rect', { x: 1 });
      a.set('e2/Rect', { x: 2 });
      a.delete('e1/Rect');
    });
    expect(changes).toEqual([{ keys: ['e1/Rect', 'e2/Rect'], origin: 'local' }]);
    await eventually(() => a.pendingCount === 0);
    expect(patchFramesFrom('alice')).toHaveLength(1);
  });

  it('[O2] a broadcast of a field still in flight never shows locally, and everyone ends with the last write', async () => {
    server = await TestServer.start();
    const gate = socketGate();
    const a = makeClient(server.url, 'room', { WebSocket: gate.WebSocket });
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.set('e1/Rect', { x: 0, y: 0 });
    await eventually(() => b.get('e1/Rect')?.x === 0 && a.pendingCount === 0);
    const seenByA: unknown[] = [];
    a.on('change', () => seenByA.push(a.get('e1/Rect')?.x));
    gate.hold();
    a.set('e1/Rect', { x: 1 });
    await eventually(() => gate.heldCount === 1);
    b.set('e1/Rect', { x: 2, y: 2 });
    // A receives B's write while its own is still in flight: y applies, x does not.
    await eventually(() => a.get('e1/Rect')?.y === 2);
    expect(a.get('e1/Rect')?.x).toBe(1);
    gate.release();
    await eventually(() => b.get('e1/Rect')?.x === 1 && a.pendingCount === 0);
    expect(seenByA).not.toContain(2);
    const state = (await server.room('room')).getSnapshot().state;
    expect(documentOf(a)).toEqual(state);
    expect(documentOf(b)).toEqual(state);
  });

  it('[A2] edits of a read-only client are acked but not applied, so its view returns to the server state', async () => {
    server = await TestServer.start({
      authorize: ({ token }) => ({ permissions: token === 'viewer' ? 'readonly' : 'readwrite' }),
    });
    const writer = makeClient(server.url, 'room');
    const viewer = makeClient(server.url, 'room', { token: 'viewer' });
    await Promise.all([writer.whenSynced(), viewer.whenSynced()]);
    writer.set('e1/Rect', { x: 1 });
    await eventually(() => viewer.get('e1/Rect')?.x === 1);
    viewer.set('e1/Rect', { x: 99 });
    expect(viewer.get('e1/Rect')?.x).toBe(99);
    await eventually(() => viewer.pendingCount === 0);
    expect(viewer.get('e1/Rect')).toEqual({ _exists: true, x: 1 });
    expect(writer.get('e1/Rect')).toEqual({ _exists: true, x: 1 });
  });

  it('[client] the persistence option is harmless where IndexedDB does not exist (memory only)', async () => {
    server = await TestServer.start();
    expect(globalThis.indexedDB).toBeUndefined();
    const a = makeClient(server.url, 'room', { persistence: { indexedDbName: 'nowhere' } });
    await a.whenSynced();
    a.set('e1/Rect', { x: 1 });
    await a.whenPersisted();
    await eventually(() => a.pendingCount === 0);
    expect((await server.room('room')).getSnapshot().state['e1/Rect']).toEqual({ _exists: true, x: 1 });
  });
});
