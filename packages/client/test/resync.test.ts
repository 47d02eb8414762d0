import { MemoryStorage } from 'canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('rollback heal', () => {
  it('[D8] after the server restarts from an older save, clients send back what it lost', async () => {
    const firstStorage = new MemoryStorage();
    server = await TestServer.start({ createStorage: () => firstStorage });
    const a = makeClient(server.url, 'room');
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.set('e1/Rect', { x: 1, y: 1 });
    b.set('e2/Rect', { x: 2 });
    b.set('e9/Rect', { x: 9 });
    await eventually(() => a.pendingCount === 0 && b.pendingCount === 0);
    const room = await server.room('room');
    await room.flush();
    const earlier = await firstStorage.load();
    expect(earlier).not.toBeNull();

    // Writes the restarted server will not have, one frame each.
    const steps: Array<() => void> = [
      () => a.set('e1/Rect', { x: 10 }),
      () => a.set('e3/Rect', { x: 3 }),
      () => b.delete('e2/Rect'),
      () => a.setArray('e4/Stroke', 'points', [1, 2, 3]),
      () => b.set('e9/Rect', { label: 'nine' }),
    ];
    for (const step of steps) {
      step();
      await eventually(() => a.pendingCount === 0 && b.pendingCount === 0);
    }
    const lost = room.getSnapshot();
    await eventually(() => {
      expect(documentOf(a)).toEqual(lost.state);
      expect(documentOf(b)).toEqual(lost.state);
    });
    expect(lost.timestamp).toBeGreaterThan((earlier?.timestamp ?? 0) + 2);

    const port = server.port;
    await server.stop({ flush: false });
    const olderStorage = new MemoryStorage();
    await olderStorage.save(earlier as NonNullable<typeof earlier>);
    server = await TestServer.start({ port, createStorage: () => olderStorage });
    const restarted = await server.room('room');
    expect(restarted.getSnapshot().state).not.toEqual(lost.state);

    await Promise.all([a.whenSynced(), b.whenSynced()]);
    await eventually(() => {
      const state = restarted.getSnapshot().state;
      expect(state).toEqual(lost.state);
      expect(documentOf(a)).toEqual(state);
      expect(documentOf(b)).toEqual(state);
    });
    // A client that never saw the lost history gets the healed document.
    const fresh = makeClient(server.url, 'room');
    await fresh.whenSynced();
    expect(documentOf(fresh)).toEqual(lost.state);
  });
});
