import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('IndexedDB persistence', () => {
  it('[client] the offline buffer, the clock and the document survive a reload', async () => {
    server = await TestServer.start();
    const persistence = { indexedDbName: 'reload-test' };
    const other = makeClient(server.url, 'room');
    const first = makeClient(server.url, 'room', { clientId: 'tab', persistence });
    await Promise.all([first.whenSynced(), other.whenSynced()]);
    first.set('e1/Rect', { x: 1, y: 1 });
    first.set('e2/Rect', { x: 2 });
    await eventually(() => first.pendingCount === 0 && other.get('e2/Rect') !== undefined);
    first.disconnect();
    first.set('e1/Rect', { x: 10 });
    first.delete('e2/Rect');
    first.setArray('e3/Stroke', 'points', [1, 2, 3]);
    const before = documentOf(first);
    await first.whenPersisted();
    first.close();

    // The page reloads, still offline.
    const reloaded = makeClient(server.url, 'room', { clientId: 'tab', persistence, startOffline: true });
    await reloaded.whenPersisted();
    expect(documentOf(reloaded)).toEqual(before);
    expect(reloaded.pendingCount).toBe(3);

    const reconnectsBefore = server.framesOfType('reconnect').length;
    reloaded.connect();
    await reloaded.whenSynced();
    const reconnect = server.framesOfType('reconnect')[reconnectsBefore];
    expect(reconnect?.lastTimestamp).toBeGreaterThan(0);
    expect(reconnect?.documentPatches).toEqual([
      {
        'e1/Rect': { x: 10 },
        'e2/Rect': { _exists: false },
        'e3/Stroke': { _exists: true, points: [1, 2, 3] },
      },
    ]);
    const room = await server.room('room');
    await eventually(() => {
      const state = room.getSnapshot().state;
      expect(documentOf(reloaded)).toEqual(state);
      expect(documentOf(other)).toEqual(state);
      expect(reloaded.pendingCount).toBe(0);
    });
    expect(other.get('e1/Rect')).toEqual({ _exists: true, x: 10, y: 1 });
  });

  it('[client] rooms sharing one database are kept apart', async () => {
    server = await TestServer.start();
    const persistence = { indexedDbName: 'shared-db' };
    const one = makeClient(server.url, 'room-1', { persistence, startOffline: true });
    const two = makeClient(server.url, 'room-2', { persistence, startOffline: true });
    one.set('e1/Rect', { x: 1 });
    two.set('e2/Rect', { x: 2 });
    await Promise.all([one.whenPersisted(), two.whenPersisted()]);
    one.close();
    two.close();
    const again = makeClient(server.url, 'room-2', { persistence, startOffline: true });
    await again.whenPersisted();
    expect(documentOf(again)).toEqual({ 'e2/Rect': { _exists: true, x: 2 } });
  });
});
