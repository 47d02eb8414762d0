import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptConnection, RoomManager } from '@woven-ecs/canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { serveEveryone } from '../../server/test/harness/serve-connections.js';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  closeClients();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The published 2.x server (`@woven-ecs/canvas-store-server`) on `ws`. */
async function startPublished(): Promise<{ url: string; manager: RoomManager }> {
  const manager = new RoomManager({ idleTimeout: 60_000 });
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  // A refused client retries; the assertions are about the clients that sync.
  serveEveryone(wss, acceptConnection, { manager }, () => {});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    await manager.closeAll();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, manager };
}

describe('against the published server', () => {
  it('[client] two clients sync through @woven-ecs/canvas-store-server', async () => {
    const { url, manager } = await startPublished();
    const a = makeClient(url, 'room');
    const b = makeClient(url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.set('e1/Rect', { x: 1, y: 2 });
    b.set('e2/Rect', { x: 3 });
    a.setArray('s1/Stroke', 'points', [1, 2, 3, 4, 5, 6, 7, 8]);
    await eventually(() => b.get('e1/Rect')?.x === 1 && a.get('e2/Rect')?.x === 3);
    a.setArray('s1/Stroke', 'points', [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    b.delete('e2/Rect');
    a.setPresence({ name: 'Alice' });
    await eventually(() => b.presence.get(a.clientId)?.name === 'Alice');
    const room = await manager.getRoom('room');
    await eventually(() => {
      const state = room.getSnapshot().state;
      const live = Object.fromEntries(Object.entries(state).filter(([, value]) => value._exists !== false));
      expect(documentOf(a)).toEqual(live);
      expect(documentOf(b)).toEqual(live);
      expect(a.pendingCount + b.pendingCount).toBe(0);
    });
    expect(b.get('s1/Stroke')?.points).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.get('e2/Rect')).toBeUndefined();
  });
});
