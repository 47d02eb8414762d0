import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('offline editing', () => {
  it('[client] edits made offline are merged, sent with the reconnect frame, and converge', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.set('e1/Rect', { x: 1, y: 1 });
    a.set('e2/Rect', { x: 2 });
    await eventually(() => b.get('e2/Rect')?.x === 2);

    a.disconnect();
    expect(a.status).toBe('offline');
    expect(a.synced).toBe(false);
    a.set('e1/Rect', { x: 10 });
    a.set('e1/Rect', { y: 20 });
    a.delete('e2/Rect');
    a.setArray('e3/Stroke', 'points', [1, 2, 3]);
    expect(a.get('e1/Rect')).toEqual({ _exists: true, x: 10, y: 20 });
    b.set('e1/Rect', { color: 'red' });
    b.set('e4/Rect', { x: 4 });
    await eventually(() => b.pendingCount === 0);

    a.connect();
    await a.whenSynced();
    const room = await server.room('room');
    await eventually(() => {
      const state = room.getSnapshot().state;
      expect(documentOf(a)).toEqual(state);
      expect(documentOf(b)).toEqual(state);
    });
    expect(a.get('e1/Rect')).toEqual({ _exists: true, x: 10, y: 20, color: 'red' });
    expect(a.get('e2/Rect')).toBeUndefined();
    expect(a.get('e4/Rect')).toEqual({ _exists: true, x: 4 });
    const withBuffer = server.framesOfType('reconnect').filter((frame) => frame.documentPatches);
    expect(withBuffer).toHaveLength(1);
    expect(withBuffer[0]?.documentPatches).toEqual([
      {
        'e1/Rect': { x: 10, y: 20 },
        'e2/Rect': { _exists: false },
        'e3/Stroke': { _exists: true, points: [1, 2, 3] },
      },
    ]);
    expect(withBuffer[0]?.lastTimestamp).toBeGreaterThan(0);
  });

  it('[D5] deleting then re-creating a key offline gives a fresh component everywhere', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room');
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.set('e1/Rect', { x: 1, label: 'old' });
    await eventually(() => b.get('e1/Rect')?.label === 'old');
    a.disconnect();
    a.delete('e1/Rect');
    a.set('e1/Rect', { x: 2 });
    expect(a.get('e1/Rect')).toEqual({ _exists: true, x: 2 });
    a.connect();
    await eventually(() => b.get('e1/Rect')?.x === 2);
    expect(b.get('e1/Rect')).toEqual({ _exists: true, x: 2 });
    expect((await server.room('room')).getSnapshot().state['e1/Rect']).toEqual({ _exists: true, x: 2 });
  });

  it('[client] a write whose socket dropped before its ack is sent again on reconnect (at-least-once)', async () => {
    let dropped = false;
    server = await TestServer.start({
      onFrame: (text, socket) => {
        if (dropped || !text.includes('"e1/Lost"')) return undefined;
        dropped = true;
        socket.terminate();
        return 'drop';
      },
    });
    const a = makeClient(server.url, 'room');
    await a.whenSynced();
    a.set('e1/Lost', { x: 1 });
    await eventually(() => dropped);
    const room = await server.room('room');
    await eventually(() => room.getSnapshot().state['e1/Lost'] !== undefined);
    expect(room.getSnapshot().state['e1/Lost']).toEqual({ _exists: true, x: 1 });
    await eventually(() => a.pendingCount === 0 && a.synced);
    expect(documentOf(a)).toEqual(room.getSnapshot().state);
  });

  it('[client] a client started offline keeps edits locally until connect()', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { startOffline: true });
    expect(a.status).toBe('offline');
    a.set('e1/Rect', { x: 1 });
    expect(a.get('e1/Rect')).toEqual({ _exists: true, x: 1 });
    expect(server.connections).toBe(0);
    a.connect();
    await a.whenSynced();
    await eventually(async () => (await server?.room('room'))?.getSnapshot().state['e1/Rect'] !== undefined);
    expect((await server.room('room')).getSnapshot().state['e1/Rect']).toEqual({ _exists: true, x: 1 });
  });
});
