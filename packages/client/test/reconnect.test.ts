import { MemoryStorage } from 'canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents } from '../src/index.js';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('reconnecting', () => {
  it('[client] reconnects with backoff after the server restarts on the same port, then syncs edits made meanwhile', async () => {
    const storage = new MemoryStorage();
    server = await TestServer.start({ createStorage: () => storage });
    const a = makeClient(server.url, 'room');
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.set('e1/Rect', { x: 1 });
    await eventually(() => b.get('e1/Rect')?.x === 1);
    const closes: Array<ClientEvents['close']> = [];
    a.on('close', (event) => closes.push(event));

    const port = server.port;
    await server.stop();
    await eventually(() => closes.length >= 3);
    expect(closes[0]?.code).toBe(1001);
    expect(closes.slice(1).every((close) => close.code === 1006)).toBe(true);
    expect(a.status).toBe('connecting');
    a.set('e2/Rect', { x: 2 });

    server = await TestServer.start({ port, createStorage: () => storage });
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const room = await server.room('room');
    await eventually(() => {
      const state = room.getSnapshot().state;
      expect(state['e2/Rect']).toEqual({ _exists: true, x: 2 });
      expect(documentOf(a)).toEqual(state);
      expect(documentOf(b)).toEqual(state);
    });
    expect(a.status).toBe('online');
  });
});
