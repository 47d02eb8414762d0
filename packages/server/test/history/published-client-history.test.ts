import { describe, expect, it } from 'vitest';
import { FileStorage, type Room } from '../../src/index.js';
import { plain, settle, type TestClient, TestServer, waitFor } from '../harness/client-harness.js';
import { ClientSuite } from '../harness/client-suite.js';

/**
 * History with the published client `@woven-ecs/canvas-store` (SPEC H2, H3):
 * a restore reaches it through the normal protocol, and what it keeps when
 * it returns after the compaction horizon (it ignores `dropOthers`).
 */
const ROOM = 'history-room';

const suite = ClientSuite.install();

async function startServer(maxEntries?: number): Promise<TestServer> {
  const dir = await suite.tempDir('canvas-store-history-');
  const history = maxEntries === undefined ? {} : { history: { maxEntries } };
  return suite.start(new TestServer((roomId) => new FileStorage({ dir, roomId, ...history })));
}

function newClient(server: TestServer, clientId: string): TestClient {
  return suite.client(server, ROOM, clientId);
}

function openRoom(server: TestServer): Room {
  const room = server.room(ROOM);
  if (!room) throw new Error('room is not open');
  return room;
}

describe('history with the published client', () => {
  it('[H2] a restore while two published clients keep writing converges: every client equals the room', async () => {
    const server = await startServer();
    const a = newClient(server, 'alice');
    const b = newClient(server, 'bob');
    await a.connect();
    await b.connect();
    for (let i = 0; i < 5; i++) a.edit({ [`e${i}/Shape`]: { _exists: true, x: i } });
    await settle(server, ROOM, [a, b]);
    const room = openRoom(server);
    const restorePoint = room.getTimestamp();
    const atRestorePoint = plain(room.getSnapshot().state);
    b.edit({ 'e1/Shape': { _exists: false } });
    b.edit({ 'e9/Shape': { _exists: true, x: 9 } });
    a.edit({ 'e2/Shape': { x: 20 } });
    await settle(server, ROOM, [a, b]);
    // Writers go on while the restore runs: edits racing it are ordinary later (or earlier) writes.
    const restoring = room.restoreTo(restorePoint);
    a.edit({ 'e3/Shape': { x: 30 } });
    b.edit({ 'e4/Shape': { x: 40 } });
    const { clock } = await restoring;
    expect(clock).toBeGreaterThan(restorePoint);
    await settle(server, ROOM, [a, b]);
    const state = plain(room.getSnapshot().state);
    expect(plain(a.doc)).toEqual(state);
    expect(plain(b.doc)).toEqual(state);
    // What the restore set is there unless a later write changed it: e1 is back, e9 is gone.
    expect(state['e1/Shape']).toEqual(atRestorePoint['e1/Shape']);
    expect(state['e9/Shape']).toBeUndefined();
    const [entry] = (await room.listHistory({ before: clock + 1, limit: 1 })).entries;
    expect(entry).toMatchObject({ clock, clientId: '' });
  });

  it('[H3] the published client returning after the horizon ignores dropOthers: it keeps the keys deleted meanwhile', async () => {
    const server = await startServer(3);
    const away = newClient(server, 'away');
    const writer = newClient(server, 'writer');
    await away.connect();
    await writer.connect();
    away.edit({ 'keep/Shape': { _exists: true, x: 1 } });
    away.edit({ 'gone/Shape': { _exists: true, x: 2 } });
    await settle(server, ROOM, [away, writer]);
    away.disconnect();
    writer.edit({ 'gone/Shape': { _exists: false } });
    await settle(server, ROOM, [away, writer]);
    for (let i = 0; i < 5; i++) {
      writer.edit({ 'keep/Shape': { x: 10 + i } });
      await settle(server, ROOM, [away, writer]);
    }
    // A restart reloads the room: the tombstone of gone/Shape was swept with the old history.
    writer.close();
    await server.stop();
    await server.start();
    await away.reconnect();
    await waitFor(
      () => away.pull() >= 0 && (away.doc['keep/Shape'] as { x?: number } | undefined)?.x === 14,
      () => `away did not catch up: ${JSON.stringify(away.doc)}`,
    );
    const room = openRoom(server);
    expect(room.compactionHorizon).toBeGreaterThan(2);
    expect(plain(room.getSnapshot().state)['gone/Shape']).toBeUndefined();
    // What the published client actually does (docs/compatibility.md): the deleted key stays.
    expect(plain(away.doc)['gone/Shape']).toEqual({ _exists: true, x: 2 });
  });
});
