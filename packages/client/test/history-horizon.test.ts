import { MemoryHistoryStorage } from 'canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents } from '../src/index.js';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

const servers: TestServer[] = [];

afterEach(async () => {
  closeClients();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function start(storage: MemoryHistoryStorage, port?: number): Promise<TestServer> {
  const server = await TestServer.start({
    createStorage: () => storage,
    ...(port === undefined ? {} : { port }),
  });
  servers.push(server);
  return server;
}

async function stop(server: TestServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.stop();
}

describe('history horizon (H3)', () => {
  it('[H3] a client away past the compaction horizon gets the whole document marked dropOthers and drops the keys deleted meanwhile', async () => {
    // Three writes of history: the deletion below is compacted away well before the client returns.
    const storage = new MemoryHistoryStorage({ history: { maxEntries: 3 } });
    const first = await start(storage);
    const port = first.port;
    const away = makeClient(first.url, 'room');
    await away.whenSynced();
    away.set('e1/Rect', { x: 1 });
    away.set('e2/Rect', { x: 2 });
    await eventually(() => away.pendingCount === 0);
    const closes: Array<ClientEvents['close']> = [];
    away.on('close', (event) => closes.push(event));
    await stop(first);
    await eventually(() => closes.length >= 1);

    // Meanwhile, on another port the client does not know: e1 is deleted, then many writes.
    const other = await start(storage);
    const writer = makeClient(other.url, 'room');
    await writer.whenSynced();
    writer.delete('e1/Rect');
    await eventually(() => writer.pendingCount === 0);
    // One acked write at a time, so each is a clock step of its own.
    for (let i = 0; i < 6; i++) {
      writer.set('e3/Rect', { x: i });
      await eventually(() => writer.pendingCount === 0);
    }
    writer.close();
    await stop(other);

    // The room reopens on the first port with its tombstone of e1 compacted.
    const back = await start(storage, port);
    const room = await back.room('room');
    expect(room.compactionHorizon).toBeGreaterThan(3);
    await eventually(() => {
      expect(documentOf(away)).toEqual(room.getSnapshot().state);
      expect(away.get('e1/Rect')).toBeUndefined();
      expect(away.get('e3/Rect')?.x).toBe(5);
    });
  });
});
