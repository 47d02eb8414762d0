import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AuthorizeInfo,
  type AuthorizeResult,
  acceptConnection,
  CloseCode,
  ConnectRequestError,
  RoomLoadError,
  RoomManager,
  type RoomManagerOptions,
  silentLogger,
} from '../../src/index.js';
import { ControllableStorage, settle } from '../helpers/controllable-storage.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { rejectionOf } from '../helpers/rejection-of.js';

const managers: RoomManager[] = [];
function newManager(options: RoomManagerOptions = {}): RoomManager {
  const manager = new RoomManager({ logger: silentLogger, ...options });
  managers.push(manager);
  return manager;
}

function urlFor(roomId: string, clientId = 'client-1', token = 'token-1'): string {
  return `/?roomId=${encodeURIComponent(roomId)}&clientId=${encodeURIComponent(clientId)}&token=${encodeURIComponent(token)}`;
}

const readwrite = (): AuthorizeResult => ({ permissions: 'readwrite' });

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.allSettled(managers.splice(0).map((m) => m.closeAll()));
});

describe('acceptConnection: authorization (C2)', () => {
  it('[C2] authorize receives roomId, clientId, token and the request object', async () => {
    const manager = newManager();
    const request = { headers: { cookie: 'a=b' } };
    const authorize = vi.fn((_info: AuthorizeInfo<typeof request>) => readwrite());
    await acceptConnection({
      socket: new FakeSocket(),
      url: `wss://host/sync?roomId=${encodeURIComponent('room a')}&clientId=cl-9&token=${encodeURIComponent('t/k+n')}`,
      request,
      manager,
      authorize,
    });
    expect(authorize).toHaveBeenCalledTimes(1);
    expect(authorize.mock.calls[0]?.[0]).toEqual({
      roomId: 'room a',
      clientId: 'cl-9',
      token: 't/k+n',
      request,
    });
    expect(authorize.mock.calls[0]?.[0].request).toBe(request);
  });

  it('[C2] a throwing authorize: no session, ready and await reject with its error, socket closed 4401', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r1');
    const denied = new Error('bad token');
    const socket = new FakeSocket();
    const conn = acceptConnection({
      socket,
      url: urlFor('r1'),
      manager,
      authorize: () => {
        throw denied;
      },
    });
    expect(await rejectionOf(conn.ready)).toBe(denied);
    expect(await rejectionOf(conn)).toBe(denied);
    expect(socket.closed?.code).toBe(CloseCode.Unauthorized);
    expect(socket.closed?.code).toBe(4401);
    expect(room.getSessionCount()).toBe(0);
    expect(socket.sent).toEqual([]);
    expect(conn.sessionId).toBeUndefined();
    expect(conn.room).toBeUndefined();
  });

  it('[C2] a rejecting authorize: no session, the awaited form rejects with its error, socket closed 4401', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r1');
    const denied = new Error('expired');
    const socket = new FakeSocket();
    const error = await rejectionOf(
      acceptConnection({ socket, url: urlFor('r1'), manager, authorize: async () => Promise.reject(denied) }),
    );
    expect(error).toBe(denied);
    expect(socket.closed?.code).toBe(CloseCode.Unauthorized);
    expect(room.getSessionCount()).toBe(0);
  });

  it('[C2] a refused connection never creates the room it asked for', async () => {
    const manager = newManager();
    const createStorage = vi.fn(() => new ControllableStorage());
    const managerWithStorage = newManager({ createStorage });
    for (const m of [manager, managerWithStorage]) {
      const conn = acceptConnection({
        socket: new FakeSocket(),
        url: urlFor('never'),
        manager: m,
        authorize: async () => {
          throw new Error('no');
        },
      });
      await rejectionOf(conn.ready);
      expect(m.getExistingRoom('never')).toBeUndefined();
      expect(m.getRoomIds()).toEqual([]);
    }
    expect(createStorage).not.toHaveBeenCalled();
  });

  it('[C2][B1] a refusal causes no unhandled rejection, whether the handle is ignored, awaited or its ready used', async () => {
    const manager = newManager();
    const failing = async (): Promise<AuthorizeResult> => {
      throw new Error('denied');
    };
    // Ignored entirely: the caller only wires events and never looks at ready.
    const ignored = acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r'),
      manager,
      authorize: failing,
    });
    ignored.onMessage('{"type":"patch","messageId":"m","documentPatches":[{"a/b":{"x":1}}]}');
    // Awaited (seed form) and caught.
    await rejectionOf(
      acceptConnection({ socket: new FakeSocket(), url: urlFor('r'), manager, authorize: failing }),
    );
    // ready used and caught.
    await rejectionOf(
      acceptConnection({ socket: new FakeSocket(), url: urlFor('r'), manager, authorize: failing }).ready,
    );
    // Synchronous throw, ignored.
    acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r'),
      manager,
      authorize: () => {
        throw new Error('sync denied');
      },
    });
    await settle();
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('[C2] an authorize result without valid permissions is a refusal (4401, no session)', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r1');
    const socket = new FakeSocket();
    const conn = acceptConnection({
      socket,
      url: urlFor('r1'),
      manager,
      authorize: () => ({ permissions: 'admin' }) as unknown as AuthorizeResult,
    });
    expect(await rejectionOf(conn.ready)).toBeInstanceOf(Error);
    expect(socket.closed?.code).toBe(CloseCode.Unauthorized);
    expect(room.getSessionCount()).toBe(0);
  });

  it('[C2] frames held during a refused authorization are never applied', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r1');
    let refuse!: (error: Error) => void;
    const socket = new FakeSocket();
    const conn = acceptConnection({
      socket,
      url: urlFor('r1'),
      manager,
      authorize: () =>
        new Promise<AuthorizeResult>((_resolve, reject) => {
          refuse = reject;
        }),
    });
    conn.onMessage(
      JSON.stringify({ type: 'patch', messageId: 'm1', documentPatches: [{ 'e/C': { x: 1 } }] }),
    );
    refuse(new Error('nope'));
    await rejectionOf(conn.ready);
    expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    expect(socket.ofType('ack')).toEqual([]);
  });

  it('[C1][C2] a bad connect URL rejects with ConnectRequestError, closes 4400 and skips authorize', async () => {
    const manager = newManager();
    const authorize = vi.fn(readwrite);
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: '/?clientId=c&token=t', manager, authorize });
    const error = await rejectionOf(conn);
    expect(error).toBeInstanceOf(ConnectRequestError);
    expect((error as ConnectRequestError).code).toBe('missing-room-id');
    expect(socket.closed?.code).toBe(CloseCode.BadRequest);
    // The reason names the missing parameter, so whoever reads the close knows what to fix.
    expect(socket.closed?.reason).toMatch(/roomId/);
    expect(authorize).not.toHaveBeenCalled();
    expect(manager.getRoomIds()).toEqual([]);
  });
});

describe('acceptConnection: handle shape (section 9)', () => {
  it('[9] returns a handle synchronously whose ready resolves to { room, sessionId }', async () => {
    const manager = newManager();
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('r9', 'c9'), manager, authorize: readwrite });
    expect(conn.ready).toBeInstanceOf(Promise);
    expect(typeof conn.onMessage).toBe('function');
    expect(typeof conn.onClose).toBe('function');
    expect(typeof conn.onError).toBe('function');
    expect(conn.sessionId).toBeUndefined();
    const ready = await conn.ready;
    expect(Object.keys(ready).sort()).toEqual(['room', 'sessionId']);
    expect(ready.room).toBe(manager.getExistingRoom('r9'));
    expect(ready.room.getSessions()).toEqual([
      { sessionId: ready.sessionId, clientId: 'c9', permissions: 'readwrite' },
    ]);
    expect(conn.sessionId).toBe(ready.sessionId);
    expect(conn.room).toBe(ready.room);
  });

  it('[9] await acceptConnection(...) yields sessionId, room, getMetadata, onMessage, onClose, onError', async () => {
    const manager = newManager();
    const socket = new FakeSocket();
    const conn = await acceptConnection({
      socket,
      url: urlFor('r9', 'c9'),
      manager,
      authorize: () => ({ permissions: 'readwrite', metadata: { user: 'ann' } }),
    });
    const room = manager.getExistingRoom('r9');
    expect(room).toBeDefined();
    expect(conn.room).toBe(room);
    expect(typeof conn.sessionId).toBe('string');
    expect(room?.getSessions().map((s) => s.sessionId)).toEqual([conn.sessionId]);
    expect(conn.getMetadata()).toEqual({ user: 'ann' });
    expect(room?.getSessionMetadata(conn.sessionId)).toEqual({ user: 'ann' });

    socket.clear();
    conn.onMessage(
      JSON.stringify({
        type: 'patch',
        messageId: 'm1',
        documentPatches: [{ 'e1/P': { _exists: true, x: 1 } }],
      }),
    );
    expect(socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 1 }]);
    expect(room?.getSnapshot().state).toEqual({ 'e1/P': { _exists: true, x: 1 } });

    conn.onClose();
    expect(room?.getSessionCount()).toBe(0);
  });

  it('[9] onError of a ready connection removes its session', async () => {
    const manager = newManager();
    const socket = new FakeSocket();
    const conn = await acceptConnection({ socket, url: urlFor('r9'), manager, authorize: readwrite });
    expect(conn.room.getSessionCount()).toBe(1);
    conn.onError();
    expect(conn.room.getSessionCount()).toBe(0);
  });

  it('[9][P3] a storage whose load throws: ready rejects with RoomLoadError and the socket closes 4503', async () => {
    const broken = new Error('database unreachable');
    const storage = new ControllableStorage();
    storage.loadError = broken;
    const manager = newManager({ createStorage: () => storage });
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('down'), manager, authorize: readwrite });
    const error = await rejectionOf(conn.ready);
    expect(error).toBeInstanceOf(RoomLoadError);
    expect((error as RoomLoadError).cause).toBe(broken);
    expect(await rejectionOf(conn)).toBe(error);
    expect(socket.closed?.code).toBe(CloseCode.RoomUnavailable);
    expect(socket.closed?.code).toBe(4503);
    expect(manager.getExistingRoom('down')).toBeUndefined();
    await settle();
    expect(unhandled).toEqual([]);
  });
});
