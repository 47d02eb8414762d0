import { describe, expect, it } from 'vitest';
import {
  type AuthorizeResult,
  acceptConnection,
  CloseCode,
  ConnectionClosedError,
  PROTOCOL_VERSION,
  type RoomSnapshot,
} from '../../src/index.js';
import { ControllableStorage, deferred, settle } from '../helpers/controllable-storage.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { newManager } from '../helpers/managers.js';
import { rejectionOf } from '../helpers/rejection-of.js';

function urlFor(roomId: string, clientId = 'client-1'): string {
  return `/?roomId=${roomId}&clientId=${clientId}&token=tok`;
}

/** A room already holding one key written at clock 3. */
const SAVED: RoomSnapshot = {
  timestamp: 3,
  state: { 'e0/Shape': { _exists: true, kind: 'rect' } },
  timestamps: { 'e0/Shape': { _exists: 3, kind: 3 } },
};

const reconnect = (lastTimestamp: number) =>
  JSON.stringify({ type: 'reconnect', lastTimestamp, protocolVersion: PROTOCOL_VERSION });
const patch = (messageId: string, key: string, value: number) =>
  JSON.stringify({ type: 'patch', messageId, documentPatches: [{ [key]: { _exists: true, v: value } }] });

/** What a client sending reconnect(0), then m1 and m2, must receive, in this order. */
function expectReconnectThenAcks(socket: FakeSocket, extraAcks: string[] = []): void {
  const frames = socket.messages.filter((m) => m.type !== 'clientCount');
  expect(frames).toEqual([
    { type: 'patch', clientId: '', documentPatches: [SAVED.state], timestamp: 3 },
    { type: 'synced', timestamp: 3 },
    { type: 'ack', messageId: 'm1', timestamp: 4 },
    { type: 'ack', messageId: 'm2', timestamp: 5 },
    ...extraAcks.map((messageId, i) => ({ type: 'ack', messageId, timestamp: 6 + i })),
  ]);
}

/** A connection authorized at once to room `r`, whose load from storage holding `saved` waits for `release()`. */
function connectDuringSlowLoad(saved?: RoomSnapshot) {
  const storage = new ControllableStorage(saved);
  const release = storage.holdLoads();
  const manager = newManager({ createStorage: () => storage });
  const socket = new FakeSocket();
  const conn = acceptConnection({
    socket,
    url: urlFor('r'),
    manager,
    authorize: () => ({ permissions: 'readwrite' }),
  });
  return { storage, release, manager, socket, conn };
}

describe('acceptConnection: frames before ready (C3)', () => {
  it('[C3] frames sent during a slow authorize are processed in order once it finishes (handle used synchronously)', async () => {
    const manager = newManager({ createStorage: () => new ControllableStorage(SAVED) });
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('r'), manager, authorize: () => auth.promise });
    conn.onMessage(reconnect(0));
    conn.onMessage(patch('m1', 'e1/A', 1));
    conn.onMessage(patch('m2', 'e1/A', 2));
    await settle();
    expect(socket.sent).toEqual([]);
    auth.resolve({ permissions: 'readwrite' });
    const { room } = await conn.ready;
    expectReconnectThenAcks(socket);
    expect(room.getSnapshot().state['e1/A']).toEqual({ _exists: true, v: 2 });
  });

  it('[C3] frames sent during a slow room load are processed in order once it finishes', async () => {
    const { storage, release, socket, conn } = connectDuringSlowLoad(SAVED);
    conn.onMessage(reconnect(0));
    await settle();
    expect(storage.loadCalls).toBe(1);
    conn.onMessage(patch('m1', 'e1/A', 1));
    conn.onMessage(patch('m2', 'e1/A', 2));
    await settle();
    expect(socket.sent).toEqual([]);
    release();
    const { room } = await conn.ready;
    expectReconnectThenAcks(socket);
    expect(room.getTimestamp()).toBe(5);
  });

  it('[C3] frames survive a slow authorize followed by a slow load, none dropped', async () => {
    const storage = new ControllableStorage(SAVED);
    const releaseLoad = storage.holdLoads();
    const manager = newManager({ createStorage: () => storage });
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('r'), manager, authorize: () => auth.promise });
    conn.onMessage(reconnect(0));
    auth.resolve({ permissions: 'readwrite' });
    await settle();
    conn.onMessage(patch('m1', 'e1/A', 1));
    expect(socket.sent).toEqual([]);
    releaseLoad();
    conn.onMessage(patch('m2', 'e1/A', 2));
    await conn.ready;
    conn.onMessage(patch('m3', 'e1/A', 3));
    expectReconnectThenAcks(socket, ['m3']);
  });

  it('[C3] with the awaited form, frames forwarded before the await completes come first, in order', async () => {
    const storage = new ControllableStorage(SAVED);
    const releaseLoad = storage.holdLoads();
    const manager = newManager({ createStorage: () => storage });
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    // A runtime's socket events, forwarded to whatever handle exists at the time.
    const pending = acceptConnection({ socket, url: urlFor('r'), manager, authorize: () => auth.promise });
    let forward = (data: string) => pending.onMessage(data);
    const emitted = (async () => {
      forward(reconnect(0));
      await settle();
      auth.resolve({ permissions: 'readwrite' });
      forward(patch('m1', 'e1/A', 1));
      await settle();
      forward(patch('m2', 'e1/A', 2));
      releaseLoad();
    })();
    const conn = await pending;
    forward = (data) => conn.onMessage(data);
    await emitted;
    forward(patch('m3', 'e1/A', 3));
    expectReconnectThenAcks(socket, ['m3']);
    expect(conn.room.getSnapshot().state['e1/A']).toEqual({ _exists: true, v: 3 });
  });

  it('[C3][O1] the reconnect reply reflects the state before the held patches (reconnect first)', async () => {
    const { release, socket, conn } = connectDuringSlowLoad(SAVED);
    conn.onMessage(reconnect(3));
    conn.onMessage(patch('m1', 'e2/B', 7));
    release();
    await conn.ready;
    const frames = socket.messages.filter((m) => m.type !== 'clientCount');
    // lastTimestamp 3 = room clock: nothing to send, then synced at 3, then the ack.
    expect(frames).toEqual([
      { type: 'synced', timestamp: 3 },
      { type: 'ack', messageId: 'm1', timestamp: 4 },
    ]);
  });

  it('[C3][A3] held writes are broadcast to the other sessions once processed', async () => {
    const storage = new ControllableStorage(SAVED);
    const manager = newManager({ createStorage: () => storage });
    const otherSocket = new FakeSocket();
    await acceptConnection({
      socket: otherSocket,
      url: urlFor('r', 'other'),
      manager,
      authorize: () => ({ permissions: 'readwrite' }),
    });
    otherSocket.clear();
    const auth = deferred<AuthorizeResult>();
    const conn = acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r'),
      manager,
      authorize: () => auth.promise,
    });
    conn.onMessage(patch('m1', 'e1/A', 1));
    conn.onMessage(patch('m2', 'e1/A', 2));
    auth.resolve({ permissions: 'readwrite' });
    await conn.ready;
    expect(otherSocket.ofType('patch').map((p) => [p.clientId, p.timestamp, p.documentPatches])).toEqual([
      ['client-1', 4, [{ 'e1/A': { _exists: true, v: 1 } }]],
      ['client-1', 5, [{ 'e1/A': { _exists: true, v: 2 } }]],
    ]);
  });
});

describe('acceptConnection: socket gone before ready', () => {
  it('[C3][9] onClose during authorize: ready rejects with ConnectionClosedError and no session remains', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r');
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('r'), manager, authorize: () => auth.promise });
    conn.onMessage(patch('m1', 'e1/A', 1));
    conn.onClose();
    auth.resolve({ permissions: 'readwrite' });
    expect(await rejectionOf(conn.ready)).toBeInstanceOf(ConnectionClosedError);
    expect(await rejectionOf(conn)).toBeInstanceOf(ConnectionClosedError);
    expect(room.getSessionCount()).toBe(0);
    expect(room.getTimestamp()).toBe(0);
    expect(socket.sent).toEqual([]);
  });

  it('[C3][9] onClose during the room load: ready rejects with ConnectionClosedError and no session remains', async () => {
    const { storage, release, manager, socket, conn } = connectDuringSlowLoad();
    await settle();
    expect(storage.loadCalls).toBe(1);
    conn.onClose();
    release();
    expect(await rejectionOf(conn.ready)).toBeInstanceOf(ConnectionClosedError);
    const room = manager.getExistingRoom('r');
    expect(room?.getSessionCount() ?? 0).toBe(0);
    expect(socket.sent).toEqual([]);
  });

  it('[9] onError before ready also rejects ready with ConnectionClosedError', async () => {
    const manager = newManager();
    const auth = deferred<AuthorizeResult>();
    const conn = acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r'),
      manager,
      authorize: () => auth.promise,
    });
    conn.onError();
    auth.resolve({ permissions: 'readwrite' });
    expect(await rejectionOf(conn.ready)).toBeInstanceOf(ConnectionClosedError);
    expect(manager.getExistingRoom('r')?.getSessionCount() ?? 0).toBe(0);
  });
});

describe('acceptConnection: bounded holding (C3, B4)', () => {
  it('[C3][B4] more held frames than maxPendingFrames closes the socket with 4432', async () => {
    const manager = newManager();
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({
      socket,
      url: urlFor('r'),
      manager,
      authorize: () => auth.promise,
      maxPendingFrames: 3,
    });
    for (let i = 1; i <= 3; i++) conn.onMessage(patch(`m${i}`, 'e/A', i));
    expect(socket.closed).toBeNull();
    conn.onMessage(patch('m4', 'e/A', 4));
    expect(socket.closed?.code).toBe(CloseCode.TooManyPendingFrames);
    expect(socket.closed?.code).toBe(4432);
    auth.resolve({ permissions: 'readwrite' });
    expect(await rejectionOf(conn.ready)).toBeInstanceOf(Error);
    expect(manager.getExistingRoom('r')?.getSessionCount() ?? 0).toBe(0);
    expect(manager.getExistingRoom('r')?.getTimestamp() ?? 0).toBe(0);
  });

  it('[C3][B4] the default holds 256 frames and closes with 4432 on the next', async () => {
    const manager = newManager();
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('r'), manager, authorize: () => auth.promise });
    for (let i = 0; i < 256; i++) conn.onMessage(patch(`m${i}`, 'e/A', i));
    expect(socket.closed).toBeNull();
    conn.onMessage(patch('one-more', 'e/A', 0));
    expect(socket.closed?.code).toBe(CloseCode.TooManyPendingFrames);
    auth.resolve({ permissions: 'readwrite' });
    await rejectionOf(conn.ready);
  });

  it('[C3][B4] 256 held frames (the default bound) are all processed in order under the default rate limits', async () => {
    const manager = newManager();
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({
      socket,
      url: urlFor('r'),
      manager,
      authorize: () => auth.promise,
    });
    for (let i = 0; i < 256; i++) conn.onMessage(patch(`m${i}`, 'e/A', i));
    auth.resolve({ permissions: 'readwrite' });
    const { room } = await conn.ready;
    expect(socket.ofType('ack').map((a) => a.messageId)).toEqual(
      Array.from({ length: 256 }, (_, i) => `m${i}`),
    );
    expect(room.getSnapshot().state['e/A']).toEqual({ _exists: true, v: 255 });
  });

  it('[C3][B4] more held bytes than maxPendingBytes closes the socket with 4432', async () => {
    const manager = newManager();
    const auth = deferred<AuthorizeResult>();
    const socket = new FakeSocket();
    const conn = acceptConnection({
      socket,
      url: urlFor('r'),
      manager,
      authorize: () => auth.promise,
      maxPendingBytes: 100,
    });
    conn.onMessage('x'.repeat(60));
    expect(socket.closed).toBeNull();
    conn.onMessage('y'.repeat(60));
    expect(socket.closed?.code).toBe(CloseCode.TooManyPendingFrames);
    auth.resolve({ permissions: 'readwrite' });
    await rejectionOf(conn.ready);
  });
});
