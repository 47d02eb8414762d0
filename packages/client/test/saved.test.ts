import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents } from '../src/index.js';
import { closeClients, eventually, makeClient } from './helpers/clients.js';
import { socketGate } from './helpers/gated-socket.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

type SavedEvent = ClientEvents['saved'];

describe('saved state (driven by acks)', () => {
  it('[A1][client] an edit is unsaved until its ack arrives, then saved', async () => {
    server = await TestServer.start();
    const gate = socketGate();
    const client = makeClient(server.url, 'room', { WebSocket: gate.WebSocket });
    await client.whenSynced();
    expect(client.saved).toBe(true);
    const events: SavedEvent[] = [];
    client.on('saved', (event) => events.push(event));

    // Hold the write frame: the server cannot ack what it never got.
    gate.hold();
    client.set('a/Rect', { x: 1 });
    client.set('b/Rect', { x: 2 });
    await eventually(() => gate.heldCount > 0);
    expect(client.saved).toBe(false);
    expect(client.pendingCount).toBe(2);
    expect(events).toEqual([
      { saved: false, pending: 1 },
      { saved: false, pending: 2 },
    ]);

    gate.release();
    await eventually(() => client.saved);
    expect(events.at(-1)).toEqual({ saved: true, pending: 0 });
    // The server has the edits the client now calls saved.
    const room = await server.room('room');
    expect(room.getSnapshot().state['b/Rect']).toEqual({ _exists: true, x: 2 });
  });

  it('[D7][client] offline edits stay unsaved (counted per key) until the reconnect reply confirms them', async () => {
    server = await TestServer.start();
    const client = makeClient(server.url, 'room');
    await client.whenSynced();
    client.disconnect();
    const events: SavedEvent[] = [];
    client.on('saved', (event) => events.push(event));

    client.set('a/Rect', { x: 1 });
    client.set('a/Rect', { y: 1 });
    client.setArray('s/Stroke', 'points', [1, 2, 3, 4]);
    client.delete('a/Rect');
    expect(client.saved).toBe(false);
    expect(client.pendingCount).toBe(2);
    expect(events).toEqual([
      { saved: false, pending: 1 },
      { saved: false, pending: 2 },
    ]);

    client.connect();
    await eventually(() => client.saved);
    expect(events.at(-1)).toEqual({ saved: true, pending: 0 });
    const room = await server.room('room');
    expect(room.getSnapshot().state['s/Stroke']).toEqual({ _exists: true, points: [1, 2, 3, 4] });
  });
});
