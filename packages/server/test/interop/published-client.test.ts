/**
 * Interoperability with the published client `@woven-ecs/canvas-store` 2.x:
 * real `WebsocketAdapter`s, unmodified, talk to our server over real sockets.
 */
import { describe, expect, it } from 'vitest';
import { FileStorage, MemoryStorage, PROTOCOL_VERSION, type Room } from '../../src/index.js';
import {
  type DocModel,
  plain,
  RawClient,
  RollbackStorage,
  settle,
  type TestClient,
  TestServer,
  waitFor,
  waitForSynced,
  wireOf,
} from '../harness/client-harness.js';
import { ClientSuite } from '../harness/client-suite.js';

const ROOM = 'interop-room';
const LONG_TEST_MS = 120_000;

const suite = ClientSuite.install();

function startServer(createStorage: ConstructorParameters<typeof TestServer>[0]): Promise<TestServer> {
  return suite.start(new TestServer(createStorage));
}

/**
 * The storages the end-to-end tests run on: FileStorage commits every write
 * through the incremental pipeline (acks and broadcasts held until durable, O4);
 * MemoryStorage is saved whole by the snapshot path. One storage instance per
 * room is shared by every server generation, so a restart finds the data.
 */
const STORAGE_KINDS = [
  {
    name: 'FileStorage',
    start: async (): Promise<TestServer> => {
      const dir = await suite.tempDir('canvas-store-interop-');
      return startServer((roomId) => new FileStorage({ dir, roomId }));
    },
  },
  {
    name: 'MemoryStorage',
    start: (): Promise<TestServer> => {
      const byRoom = new Map<string, MemoryStorage>();
      return startServer((roomId) => {
        let storage = byRoom.get(roomId);
        if (!storage) {
          storage = new MemoryStorage();
          byRoom.set(roomId, storage);
        }
        return storage;
      });
    },
  },
];

function newClient(server: TestServer, clientId: string): TestClient {
  return suite.client(server, ROOM, clientId);
}

async function connectClients(server: TestServer, ids: string[]): Promise<TestClient[]> {
  const made = ids.map((id) => newClient(server, id));
  for (const client of made) await client.connect();
  return made;
}

function openRoom(server: TestServer): Room {
  const room = server.room(ROOM);
  if (!room) throw new Error('room is not open');
  return room;
}

/** Every client's model equals `expected`, and so does the server's live document (SPEC D10). */
function expectConverged(server: TestServer, group: readonly TestClient[], expected?: DocModel): DocModel {
  const snapshot = plain(openRoom(server).getSnapshot());
  const reference = expected ?? snapshot.state;
  for (const client of group) {
    expect({ client: client.clientId, doc: plain(client.doc) }).toEqual({
      client: client.clientId,
      doc: reference,
    });
  }
  expect(snapshot.state).toEqual(reference);
  // D10: per-field stamps exist for exactly the live fields, none above the clock.
  expect(Object.keys(snapshot.timestamps).sort()).toEqual(Object.keys(snapshot.state).sort());
  for (const [key, fields] of Object.entries(snapshot.state)) {
    const stamps = snapshot.timestamps[key] ?? {};
    expect(Object.keys(stamps).sort()).toEqual(Object.keys(fields).sort());
    for (const stamp of Object.values(stamps)) expect(stamp).toBeLessThanOrEqual(snapshot.timestamp);
  }
  return reference;
}

function cursorKey(clientId: string): string {
  return `cursor-${clientId}/Cursor`;
}

/** The cursors of everyone except `self`, as `self` should see them. */
function othersCursors(self: string, cursors: Record<string, DocModel[string]>): DocModel {
  const seen: DocModel = {};
  for (const [id, cursor] of Object.entries(cursors)) if (id !== self) seen[cursorKey(id)] = cursor;
  return seen;
}

async function stopAndWaitOffline(server: TestServer, online: readonly TestClient[]): Promise<void> {
  await server.stop();
  await waitFor(
    () => online.every((c) => !c.adapter.isOnline),
    () => 'clients to notice the server went away',
  );
}

/** The four published clients of the convergence scenario, and the server they share. */
interface FourClients {
  server: TestServer;
  a: TestClient;
  b: TestClient;
  c: TestClient;
  d: TestClient;
  all: TestClient[];
}

/** Phase 1: creations by several clients, field updates of others' entities (D3), concurrent updates (O2). */
async function concurrentEdits({ server, a, b, c, d, all }: FourClients): Promise<void> {
  // Creations by several clients.
  a.edit({ 'e1/Shape': { _exists: true, x: 1, y: 1, color: 'red' } });
  a.edit({ 'e2/Shape': { _exists: true, x: 2, y: 2 } });
  b.edit({ 'e3/Shape': { _exists: true, x: 3, y: 3 } });
  c.edit({ 'e4/Shape': { _exists: true, x: 4, y: 4 } });
  d.edit({ 'e5/Shape': { _exists: true, x: 5, y: 5 } });
  await settle(server, ROOM, all);
  expectConverged(server, all, {
    'e1/Shape': { _exists: true, x: 1, y: 1, color: 'red' },
    'e2/Shape': { _exists: true, x: 2, y: 2 },
    'e3/Shape': { _exists: true, x: 3, y: 3 },
    'e4/Shape': { _exists: true, x: 4, y: 4 },
    'e5/Shape': { _exists: true, x: 5, y: 5 },
  });
  expect(openRoom(server).getTimestamp()).toBe(5); // D1: one tick per written frame

  // Field updates of other clients' entities (D3: other fields stay).
  a.edit({ 'e3/Shape': { x: 30 } });
  b.edit({ 'e1/Shape': { color: 'blue' } });
  c.edit({ 'e5/Shape': { y: 50 } });
  await settle(server, ROOM, all);
  expectConverged(server, all, {
    'e1/Shape': { _exists: true, x: 1, y: 1, color: 'blue' },
    'e2/Shape': { _exists: true, x: 2, y: 2 },
    'e3/Shape': { _exists: true, x: 30, y: 3 },
    'e4/Shape': { _exists: true, x: 4, y: 4 },
    'e5/Shape': { _exists: true, x: 5, y: 50 },
  });

  // Concurrent updates of the same field, all in flight at once (O2 keeps them convergent),
  // and of different fields of one component (both survive).
  a.edit({ 'e1/Shape': { x: 100 } });
  b.edit({ 'e1/Shape': { x: 200 } });
  c.edit({ 'e1/Shape': { x: 300 } });
  d.edit({ 'e1/Shape': { x: 400 } });
  b.edit({ 'e4/Shape': { x: 41 } });
  c.edit({ 'e4/Shape': { y: 42 } });
  await settle(server, ROOM, all);
  const afterRace = expectConverged(server, all);
  expect([100, 200, 300, 400]).toContain(afterRace['e1/Shape']?.x);
  expect(afterRace['e4/Shape']).toEqual({ _exists: true, x: 41, y: 42 });
}

/** Phase 2: ephemeral cursors (E1): everyone sees everyone else's, never its own. Returns the cursors by client. */
async function everyoneSetsACursor({ server, all }: FourClients): Promise<Record<string, DocModel[string]>> {
  const cursors: Record<string, DocModel[string]> = {};
  for (const [i, client] of all.entries()) {
    cursors[client.clientId] = { _exists: true, x: 10 * i, y: 10 * i };
    client.ephemeral({ [cursorKey(client.clientId)]: { _exists: true, x: 10 * i, y: 10 * i } });
  }
  await settle(server, ROOM, all);
  for (const client of all) {
    expect(plain(client.remoteEphemeral)).toEqual(othersCursors(client.clientId, cursors));
  }
  return cursors;
}

/**
 * Phase 3: d goes offline (its cursor disappears for the others, E3) and
 * everyone edits, d included while offline; then two server restarts while d
 * is still away (D9), a editing while the server is down.
 */
async function editsWhileDIsAway(
  { server, a, b, c, d, all }: FourClients,
  onlineCursors: Record<string, DocModel[string]>,
): Promise<void> {
  d.disconnect();
  await settle(server, ROOM, all);
  const online = [a, b, c];
  for (const client of online) {
    expect(plain(client.remoteEphemeral)).toEqual(othersCursors(client.clientId, onlineCursors));
  }

  // Everyone edits, d included while offline. a deletes e2, which d still has.
  a.edit({ 'e2/Shape': { _exists: false } });
  a.edit({ 'e3/Shape': { y: 33 } });
  b.edit({ 'e1/Shape': { x: 500 } });
  b.edit({ 'e1/Shape': { y: 11 } });
  c.edit({ 'e6/Shape': { _exists: true, x: 6, y: 6 } });
  d.edit({ 'e1/Shape': { x: 999 } }); // conflicts with b; applied later on the server, so it wins
  d.edit({ 'e3/Shape': { x: 301 } });
  d.edit({ 'e7/Shape': { _exists: true, x: 7, y: 7 } });
  d.edit({ 'e4/Shape': { _exists: false } });
  d.ephemeral({ [cursorKey('d')]: { x: 99 } });
  await settle(server, ROOM, all);
  expectConverged(server, online, {
    'e1/Shape': { _exists: true, x: 500, y: 11, color: 'blue' },
    'e3/Shape': { _exists: true, x: 30, y: 33 },
    'e4/Shape': { _exists: true, x: 41, y: 42 },
    'e5/Shape': { _exists: true, x: 5, y: 50 },
    'e6/Shape': { _exists: true, x: 6, y: 6 },
  });
  expect(d.doc['e2/Shape']).toEqual({ _exists: true, x: 2, y: 2 });

  // Full server restart while d is still away; a edits while the server is down.
  await stopAndWaitOffline(server, online);
  a.edit({ 'e6/Shape': { x: 60 } });
  await server.start();
  await waitForSynced(online); // the adapters reconnect on their own
  await settle(server, ROOM, all);
  expectConverged(server, online, {
    'e1/Shape': { _exists: true, x: 500, y: 11, color: 'blue' },
    'e3/Shape': { _exists: true, x: 30, y: 33 },
    'e4/Shape': { _exists: true, x: 41, y: 42 },
    'e5/Shape': { _exists: true, x: 5, y: 50 },
    'e6/Shape': { _exists: true, x: 60, y: 6 },
  });
  // Ephemeral state is not persisted, but the reconnecting clients re-announce theirs.
  for (const client of online) {
    expect(plain(client.remoteEphemeral)).toEqual(othersCursors(client.clientId, onlineCursors));
  }

  // And again (D9: any number of restarts).
  await stopAndWaitOffline(server, online);
  await server.start();
  await settle(server, ROOM, all);
}

/** Phase 4: d comes back: its offline edits apply, and it learns that e2 was deleted (D7, D9). */
async function dComesBack(
  { server, d, all }: FourClients,
  onlineCursors: Record<string, DocModel[string]>,
  dCursor: DocModel[string] | undefined,
): Promise<void> {
  await d.reconnect();
  await waitForSynced([d]);
  await settle(server, ROOM, all);
  const beforeLateEdits: DocModel = {
    'e1/Shape': { _exists: true, x: 999, y: 11, color: 'blue' },
    'e3/Shape': { _exists: true, x: 301, y: 33 },
    'e5/Shape': { _exists: true, x: 5, y: 50 },
    'e6/Shape': { _exists: true, x: 60, y: 6 },
    'e7/Shape': { _exists: true, x: 7, y: 7 },
  };
  expectConverged(server, all, beforeLateEdits);
  const allCursors = { ...onlineCursors, d: { _exists: true, x: 99, y: 30 } };
  expect(dCursor).toEqual({ _exists: true, x: 30, y: 30 });
  for (const client of all) {
    expect(plain(client.remoteEphemeral)).toEqual(othersCursors(client.clientId, allCursors));
  }
}

/**
 * Phase 5: later edits (re-creating a deleted key starts fresh, D5; deletions
 * by the returning client), then fresh readers before and after one more
 * restart (P5: closeAll persisted everything) get the same document.
 */
async function lateEditsAndFreshReaders({ server, a, b, d, all }: FourClients): Promise<void> {
  a.edit({ 'e2/Shape': { _exists: true, x: 20 } });
  b.edit({ 'e7/Shape': { y: 70 } });
  d.edit({ 'e5/Shape': { _exists: false } });
  await settle(server, ROOM, all);
  const finalDoc: DocModel = {
    'e1/Shape': { _exists: true, x: 999, y: 11, color: 'blue' },
    'e2/Shape': { _exists: true, x: 20 },
    'e3/Shape': { _exists: true, x: 301, y: 33 },
    'e6/Shape': { _exists: true, x: 60, y: 6 },
    'e7/Shape': { _exists: true, x: 7, y: 70 },
  };
  expectConverged(server, all, finalDoc);

  // A fresh reader (lastTimestamp 0) gets the same document, deleted keys absent.
  const reader = newClient(server, 'reader');
  await reader.connect();
  await settle(server, ROOM, [...all, reader]);
  expect(reader.syncedCalls).toBeGreaterThan(0);
  expectConverged(server, [...all, reader], finalDoc);

  // After one more restart (P5: closeAll persisted everything), another fresh reader agrees.
  for (const client of [...all, reader]) client.close();
  await server.stop();
  await server.start();
  const lateReader = newClient(server, 'late-reader');
  await lateReader.connect();
  await settle(server, ROOM, [lateReader]);
  expectConverged(server, [lateReader], finalDoc);
}

describe.each(STORAGE_KINDS)('published @woven-ecs/canvas-store clients on $name', ({ start }) => {
  it(
    '[D1][D3][D4][D5][D7][D9][D10][E1][E3][O2][P5] four published clients converge through concurrent edits, offline edits and server restarts',
    async () => {
      const server = await start();
      const [a, b, c, d] = await connectClients(server, ['a', 'b', 'c', 'd']);
      if (!a || !b || !c || !d) throw new Error('clients missing');
      const clients: FourClients = { server, a, b, c, d, all: [a, b, c, d] };
      await settle(server, ROOM, clients.all);

      await concurrentEdits(clients);
      const cursors = await everyoneSetsACursor(clients);
      const { d: dCursor, ...onlineCursors } = cursors;
      await editsWhileDIsAway(clients, onlineCursors);
      await dComesBack(clients, onlineCursors, dCursor);
      await lateEditsAndFreshReaders(clients);
    },
    LONG_TEST_MS,
  );
});

describe('published @woven-ecs/canvas-store clients', () => {
  it(
    '[E1][E2][E3] a published client sees another client’s cursor and drops it when that client leaves',
    async () => {
      const server = await startServer(() => new MemoryStorage());
      const [a, b] = await connectClients(server, ['a', 'b']);
      if (!a || !b) throw new Error('clients missing');
      await settle(server, ROOM, [a, b]);

      a.ephemeral({ [cursorKey('a')]: { _exists: true, x: 10, y: 20 } });
      await waitFor(
        () => {
          b.pull();
          return b.remoteEphemeral[cursorKey('a')]?.x === 10;
        },
        () => `b to see a's cursor; b sees ${JSON.stringify(b.remoteEphemeral)}`,
      );
      expect(plain(b.remoteEphemeral)).toEqual({ [cursorKey('a')]: { _exists: true, x: 10, y: 20 } });

      // E2: a client joining later gets it on connect.
      const [c] = await connectClients(server, ['c']);
      if (!c) throw new Error('client missing');
      await settle(server, ROOM, [a, b, c]);
      expect(plain(c.remoteEphemeral)).toEqual({ [cursorKey('a')]: { _exists: true, x: 10, y: 20 } });

      // E1: a moving cursor merges into the state the others hold.
      a.ephemeral({ [cursorKey('a')]: { x: 11 } });
      await settle(server, ROOM, [a, b, c]);
      for (const client of [b, c]) {
        expect(plain(client.remoteEphemeral)).toEqual({ [cursorKey('a')]: { _exists: true, x: 11, y: 20 } });
      }
      expect(plain(a.remoteEphemeral)).toEqual({}); // never echoed to its author
      expect(openRoom(server).getTimestamp()).toBe(0); // ephemeral writes do not move the clock

      // E3: a leaves; the others pull a deletion of its cursor from the server.
      a.disconnect();
      await settle(server, ROOM, [a, b, c]);
      for (const client of [b, c]) {
        expect(client.adapter.isOnline).toBe(true);
        expect(plain(client.remoteEphemeral)).toEqual({});
        expect(client.pulledEphemeral.at(-1)).toEqual({ [cursorKey('a')]: { _exists: false } });
      }
    },
    LONG_TEST_MS,
  );

  it(
    '[D8][D7] published clients heal a server that restarted from an older save',
    async () => {
      const storage = new RollbackStorage();
      const server = await startServer(() => storage);
      const [a, b] = await connectClients(server, ['a', 'b']);
      if (!a || !b) throw new Error('clients missing');
      const all = [a, b];

      a.edit({ 'e1/Shape': { _exists: true, x: 1, y: 1 } });
      a.edit({ 'e2/Shape': { _exists: true, x: 2, y: 2 } });
      b.edit({ 'e3/Shape': { _exists: true, x: 3, y: 3 } });
      await settle(server, ROOM, all);
      await openRoom(server).flush();
      expect(storage.storedClock).toBe(3);

      // Writes the server will lose: its saves from now on vanish.
      storage.dropSaves();
      a.edit({ 'e1/Shape': { x: 10 } });
      b.edit({ 'e2/Shape': { _exists: false } });
      b.edit({ 'e4/Shape': { _exists: true, x: 4, y: 4 } });
      a.edit({ 'e3/Shape': { y: 30 } });
      await settle(server, ROOM, all);
      const beforeRollback = expectConverged(server, all, {
        'e1/Shape': { _exists: true, x: 10, y: 1 },
        'e3/Shape': { _exists: true, x: 3, y: 30 },
        'e4/Shape': { _exists: true, x: 4, y: 4 },
      });
      expect(openRoom(server).getTimestamp()).toBe(7);

      await stopAndWaitOffline(server, all);
      storage.keepSaves();
      expect(storage.storedClock).toBe(3); // the restarted server has lost four writes
      await server.start();
      await waitForSynced(all);
      await settle(server, ROOM, all);

      const resyncs = all.flatMap((client) => wireOf(client.clientId)?.frames ?? []);
      expect(resyncs.filter((frame) => frame.type === 'resync').length).toBeGreaterThan(0);
      expectConverged(server, all, beforeRollback);

      const reader = newClient(server, 'reader');
      await reader.connect();
      await settle(server, ROOM, [...all, reader]);
      expectConverged(server, [...all, reader], beforeRollback);
    },
    LONG_TEST_MS,
  );
});

describe('wire protocol over a real socket (raw ws clients)', () => {
  async function rawClient(server: TestServer, clientId: string): Promise<RawClient> {
    return suite.closeAfter(await RawClient.connect(server.url, ROOM, clientId));
  }

  async function joinRaw(server: TestServer, clientId: string): Promise<RawClient> {
    const raw = await rawClient(server, clientId);
    raw.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: PROTOCOL_VERSION });
    await raw.waitForFrame((frame) => frame.type === 'synced', `${clientId} synced`);
    return raw;
  }

  it('[D1][B2] a reconnect announcing protocol version 1 gets version-mismatch and applies nothing', async () => {
    const server = await startServer(() => new MemoryStorage());
    const patch = { 'e1/Shape': { _exists: true, x: 1 } };
    const old = await rawClient(server, 'old-client');
    old.send({
      type: 'reconnect',
      lastTimestamp: 0,
      protocolVersion: 1,
      documentPatches: [patch],
      ephemeralPatches: [{ [cursorKey('old-client')]: { _exists: true, x: 1 } }],
    });
    await old.waitForFrame((frame) => frame.type === 'version-mismatch', 'version-mismatch');
    expect(old.ofType('version-mismatch')).toEqual([{ type: 'version-mismatch', serverProtocolVersion: 2 }]);
    expect(PROTOCOL_VERSION).toBe(2);
    expect(openRoom(server).getTimestamp()).toBe(0);
    expect(plain(openRoom(server).getSnapshot().state)).toEqual({});

    // The same frame with the right version is applied: the mismatch was the only reason.
    const current = await rawClient(server, 'current-client');
    current.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2, documentPatches: [patch] });
    await current.waitForFrame((frame) => frame.type === 'synced', 'synced');
    expect(current.ofType('version-mismatch')).toEqual([]);
    // The older client's ephemeral state was not applied either (E2 would have delivered it).
    expect(current.frames.some((frame) => 'ephemeralPatches' in frame)).toBe(false);
    expect(openRoom(server).getTimestamp()).toBe(1);
    expect(plain(openRoom(server).getSnapshot().state)).toEqual(patch);
  });

  it.each(STORAGE_KINDS)(
    '[O1][O2][O3][D1][A3] acks and broadcasts of interleaved writers arrive in clock order on $name',
    async ({ start }) => {
      const server = await start();
      const a = await joinRaw(server, 'raw-a');
      const b = await joinRaw(server, 'raw-b');
      const writes = 40;

      // Both write the same field in quick bursts; yielding between bursts lets the frames of
      // the two sockets reach the server interleaved (several writers per commit batch).
      for (let i = 0; i < writes; i++) {
        a.send({
          type: 'patch',
          messageId: `a-${i}`,
          documentPatches: [{ 'e1/Shape': { _exists: true, x: `a${i}` } }],
        });
        b.send({
          type: 'patch',
          messageId: `b-${i}`,
          documentPatches: [{ 'e1/Shape': { _exists: true, x: `b${i}` } }],
        });
        if (i % 4 === 3) await new Promise((resolve) => setImmediate(resolve));
      }
      const documentFrames = (raw: RawClient) =>
        raw.frames.filter(
          (frame) => frame.type === 'ack' || (frame.type === 'patch' && frame.timestamp !== undefined),
        );
      await waitFor(
        () => documentFrames(a).length === 2 * writes && documentFrames(b).length === 2 * writes,
        () => `all acks and broadcasts; a has ${documentFrames(a).length}, b has ${documentFrames(b).length}`,
      );

      const allClocks = Array.from({ length: 2 * writes }, (_, i) => i + 1);
      for (const [raw, self, other] of [
        [a, 'a', 'b'],
        [b, 'b', 'a'],
      ] as const) {
        const frames = documentFrames(raw);
        // O2 + O3: every session sees each clock once, in increasing order, whether its own ack or a
        // broadcast; so the ack of its write precedes the broadcast of any later write.
        expect(frames.map((frame) => frame.timestamp)).toEqual(allClocks);
        // O1: its own writes are acked in the order sent.
        expect(frames.filter((f) => f.type === 'ack').map((f) => f.messageId)).toEqual(
          Array.from({ length: writes }, (_, i) => `${self}-${i}`),
        );
        // A3: broadcasts carry the other client's writes only, never echoes.
        const broadcasts = frames.filter((f) => f.type === 'patch');
        expect(broadcasts.every((f) => f.clientId === `raw-${other}`)).toBe(true);
        expect(broadcasts.map((f) => JSON.stringify(f.documentPatches))).toEqual(
          Array.from({ length: writes }, (_, i) =>
            JSON.stringify([{ 'e1/Shape': { _exists: true, x: `${other}${i}` } }]),
          ),
        );
      }

      // The write stamped last (a's or b's final one) is the one the document holds.
      const lastValue = documentFrames(a).at(-1)?.type === 'ack' ? `a${writes - 1}` : `b${writes - 1}`;
      expect(plain(openRoom(server).getSnapshot())).toMatchObject({
        timestamp: 2 * writes,
        state: { 'e1/Shape': { x: lastValue } },
      });
    },
  );
});
