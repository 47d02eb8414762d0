import { describe, expect, it, vi } from 'vitest';
import {
  type AuthorizeInfo,
  type AuthorizeResult,
  acceptConnection,
  CloseCode,
  MemoryStorage,
  type RoomOptions,
} from '../../src/index.js';
import { deferred, settle } from '../helpers/controllable-storage.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { newManager } from '../helpers/managers.js';

function urlFor(roomId: string, clientId = 'client-1', token = 'tok-1'): string {
  return `/?roomId=${roomId}&clientId=${clientId}&token=${token}`;
}

const refresh = (token: string) => JSON.stringify({ type: 'auth-refresh', token });
const patch = (messageId: string, key: string, value: number) =>
  JSON.stringify({ type: 'patch', messageId, documentPatches: [{ [key]: { _exists: true, v: value } }] });

describe('acceptConnection: roomOptions (C4)', () => {
  it('[C4] roomOptions is called when the connection creates the room, and not for a later connection', async () => {
    const manager = newManager();
    const onDocumentPatch = vi.fn();
    const roomOptions = vi.fn((_roomId: string): RoomOptions => ({ onDocumentPatch }));
    const authorize = (): AuthorizeResult => ({ permissions: 'readwrite' });
    const first = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1'),
      manager,
      authorize,
      roomOptions,
    });
    expect(roomOptions).toHaveBeenCalledTimes(1);
    expect(roomOptions).toHaveBeenCalledWith('r1');
    const second = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1', 'client-2'),
      manager,
      authorize,
      roomOptions,
    });
    expect(roomOptions).toHaveBeenCalledTimes(1);
    expect(second.room).toBe(first.room);
    // The options of the creating call are the ones in force.
    second.onMessage(patch('m1', 'e/A', 1));
    expect(onDocumentPatch).toHaveBeenCalledTimes(1);
    expect(onDocumentPatch).toHaveBeenCalledWith(first.room, [{ 'e/A': { _exists: true, v: 1 } }]);
  });

  it('[C4] concurrent connections to a new room consult roomOptions once', async () => {
    const manager = newManager();
    const roomOptions = vi.fn((): RoomOptions => ({}));
    const authorize = async (): Promise<AuthorizeResult> => ({ permissions: 'readwrite' });
    const conns = [1, 2, 3].map((i) =>
      acceptConnection({
        socket: new FakeSocket(),
        url: urlFor('r1', `c${i}`),
        manager,
        authorize,
        roomOptions,
      }),
    );
    const ready = await Promise.all(conns.map((c) => c.ready));
    expect(roomOptions).toHaveBeenCalledTimes(1);
    expect(new Set(ready.map((r) => r.room)).size).toBe(1);
    expect(ready[0]?.room.getSessionCount()).toBe(3);
  });

  it('[C4] roomOptions is not consulted for a room opened beforehand', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r1');
    const roomOptions = vi.fn((): RoomOptions => ({}));
    const conn = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1'),
      manager,
      authorize: () => ({ permissions: 'readwrite' }),
      roomOptions,
    });
    expect(conn.room).toBe(room);
    expect(roomOptions).not.toHaveBeenCalled();
  });

  it('[C4][9] a storage given by roomOptions (createStorage, published form) is used', async () => {
    const manager = newManager();
    const storage = new MemoryStorage();
    await storage.save({ timestamp: 2, state: { 'e/A': { v: 9 } }, timestamps: { 'e/A': { v: 2 } } });
    const conn = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1'),
      manager,
      authorize: () => ({ permissions: 'readwrite' }),
      roomOptions: () => ({ createStorage: () => storage }),
    });
    expect(conn.room.getSnapshot()).toEqual({
      timestamp: 2,
      state: { 'e/A': { v: 9 } },
      timestamps: { 'e/A': { v: 2 } },
    });
  });
});

describe('acceptConnection: auth-refresh (C5)', () => {
  it('[C5] an auth-refresh frame runs authorize again with the new token and request undefined', async () => {
    const manager = newManager();
    const request = { ip: '10.0.0.1' };
    const authorize = vi.fn(
      (_info: AuthorizeInfo<typeof request>): AuthorizeResult => ({ permissions: 'readwrite' }),
    );
    const conn = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1', 'c1', 'old'),
      request,
      manager,
      authorize,
    });
    conn.onMessage(refresh('new-token'));
    await settle();
    expect(authorize).toHaveBeenCalledTimes(2);
    expect(authorize.mock.calls[1]?.[0]).toEqual({
      roomId: 'r1',
      clientId: 'c1',
      token: 'new-token',
      request: undefined,
    });
    expect('request' in (authorize.mock.calls[1]?.[0] ?? {})).toBe(true);
  });

  it('[C5][A2] readwrite -> readonly: a following patch is acked but not applied nor broadcast', async () => {
    const manager = newManager();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult => ({
      permissions: token === 'viewer' ? 'readonly' : 'readwrite',
    });
    const socket = new FakeSocket();
    const conn = await acceptConnection({ socket, url: urlFor('r1', 'c1', 'editor'), manager, authorize });
    const otherSocket = new FakeSocket();
    await acceptConnection({ socket: otherSocket, url: urlFor('r1', 'c2', 'editor'), manager, authorize });
    conn.onMessage(patch('m1', 'e/A', 1));
    expect(conn.room.getSnapshot().state['e/A']).toEqual({ _exists: true, v: 1 });
    otherSocket.clear();

    conn.onMessage(refresh('viewer'));
    conn.onMessage(patch('m2', 'e/A', 2));
    await settle();
    expect(conn.room.getSessionPermissions(conn.sessionId)).toBe('readonly');
    expect(socket.ofType('ack')).toEqual([
      { type: 'ack', messageId: 'm1', timestamp: 1 },
      { type: 'ack', messageId: 'm2', timestamp: 1 },
    ]);
    expect(conn.room.getSnapshot().state['e/A']).toEqual({ _exists: true, v: 1 });
    expect(otherSocket.ofType('patch')).toEqual([]);
    expect(socket.closed).toBeNull();
  });

  it('[C5][O1] a patch sent while an async refresh is pending waits for its verdict', async () => {
    const manager = newManager();
    const verdict = deferred<AuthorizeResult>();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult | Promise<AuthorizeResult> =>
      token === 'slow' ? verdict.promise : { permissions: 'readwrite' };
    const socket = new FakeSocket();
    const conn = await acceptConnection({ socket, url: urlFor('r1'), manager, authorize });
    conn.onMessage(refresh('slow'));
    conn.onMessage(patch('m1', 'e/A', 1));
    await settle();
    expect(socket.ofType('ack')).toEqual([]);
    verdict.resolve({ permissions: 'readonly' });
    await settle();
    expect(socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 0 }]);
    expect(conn.room.getTimestamp()).toBe(0);
  });

  it('[C5] readonly -> readwrite: a following patch is applied', async () => {
    const manager = newManager();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult => ({
      permissions: token === 'editor' ? 'readwrite' : 'readonly',
    });
    const conn = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1', 'c1', 'viewer'),
      manager,
      authorize,
    });
    conn.onMessage(patch('m1', 'e/A', 1));
    expect(conn.room.getTimestamp()).toBe(0);
    conn.onMessage(refresh('editor'));
    await settle();
    conn.onMessage(patch('m2', 'e/A', 2));
    expect(conn.room.getSnapshot().state['e/A']).toEqual({ _exists: true, v: 2 });
  });

  it('[C5] metadata returned by the refresh replaces the session metadata; getMetadata reflects it', async () => {
    const manager = newManager();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult<{ token: string }> => ({
      permissions: 'readwrite',
      metadata: { token },
    });
    const conn = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1', 'c1', 't1'),
      manager,
      authorize,
    });
    expect(conn.getMetadata()).toEqual({ token: 't1' });
    conn.onMessage(refresh('t2'));
    await settle();
    expect(conn.getMetadata()).toEqual({ token: 't2' });
    expect(conn.room.getSessionMetadata(conn.sessionId)).toEqual({ token: 't2' });
  });

  it('[C5] a refresh result without metadata keeps the previous metadata', async () => {
    const manager = newManager();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult<{ user: string }> =>
      token === 'first'
        ? { permissions: 'readwrite', metadata: { user: 'ann' } }
        : { permissions: 'readonly' };
    const conn = await acceptConnection({
      socket: new FakeSocket(),
      url: urlFor('r1', 'c1', 'first'),
      manager,
      authorize,
    });
    conn.onMessage(refresh('second'));
    await settle();
    expect(conn.room.getSessionPermissions(conn.sessionId)).toBe('readonly');
    expect(conn.getMetadata()).toEqual({ user: 'ann' });
  });

  it('[C5] a refresh whose authorize rejects closes the session with 4403', async () => {
    const manager = newManager();
    const authorize = async ({ token }: AuthorizeInfo): Promise<AuthorizeResult> => {
      if (token === 'revoked') throw new Error('revoked');
      return { permissions: 'readwrite' };
    };
    const socket = new FakeSocket();
    const conn = await acceptConnection({ socket, url: urlFor('r1'), manager, authorize });
    conn.onMessage(refresh('revoked'));
    conn.onMessage(patch('m1', 'e/A', 1));
    await settle();
    expect(socket.closed?.code).toBe(CloseCode.Forbidden);
    expect(socket.closed?.code).toBe(4403);
    expect(conn.room.getSessionCount()).toBe(0);
    expect(conn.room.getTimestamp()).toBe(0);
    expect(socket.ofType('ack')).toEqual([]);
  });

  it('[C5] a refresh whose authorize throws synchronously closes the session with 4403', async () => {
    const manager = newManager();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult => {
      if (token === 'revoked') throw new Error('revoked');
      return { permissions: 'readwrite' };
    };
    const socket = new FakeSocket();
    const conn = await acceptConnection({ socket, url: urlFor('r1'), manager, authorize });
    expect(() => conn.onMessage(refresh('revoked'))).not.toThrow();
    await settle();
    expect(socket.closed?.code).toBe(CloseCode.Forbidden);
    expect(conn.room.getSessionCount()).toBe(0);
  });

  it('[C3][C5] an auth-refresh held before ready is applied in order with the frames after it', async () => {
    const manager = newManager();
    const auth = deferred<AuthorizeResult>();
    const authorize = ({ token }: AuthorizeInfo): AuthorizeResult | Promise<AuthorizeResult> =>
      token === 'viewer' ? { permissions: 'readonly' } : auth.promise;
    const socket = new FakeSocket();
    const conn = acceptConnection({ socket, url: urlFor('r1', 'c1', 'editor'), manager, authorize });
    conn.onMessage(patch('m1', 'e/A', 1));
    conn.onMessage(refresh('viewer'));
    conn.onMessage(patch('m2', 'e/A', 2));
    auth.resolve({ permissions: 'readwrite' });
    const { room } = await conn.ready;
    await settle();
    expect(socket.ofType('ack').map((a) => [a.messageId, a.timestamp])).toEqual([
      ['m1', 1],
      ['m2', 1],
    ]);
    expect(room.getSnapshot().state['e/A']).toEqual({ _exists: true, v: 1 });
  });
});
