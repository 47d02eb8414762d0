import { describe, expect, it, vi } from 'vitest';
import { CloseCode, type TokenRefreshResult } from '../../src/index.js';
import { clearAll, connectWith, deferred, sendPatch, settle } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('room-level onTokenRefresh (C5)', () => {
  it('[C5] is called with the room, session id, client id and the new token', async () => {
    const onTokenRefresh = vi.fn(() => ({ permissions: 'readwrite' as const }));
    const room = createRoom({ onTokenRefresh });
    const a = connect(room, { clientId: 'alice' });
    a.send({ type: 'auth-refresh', token: 'fresh-token' });
    await settle();
    expect(onTokenRefresh).toHaveBeenCalledTimes(1);
    expect(onTokenRefresh).toHaveBeenCalledWith(room, {
      sessionId: a.sessionId,
      clientId: 'alice',
      token: 'fresh-token',
    });
  });

  it('[C5] its permissions replace the session permissions', async () => {
    const room = createRoom({ onTokenRefresh: () => ({ permissions: 'readonly' }) });
    const a = connect(room);
    a.send({ type: 'auth-refresh', token: 't2' });
    await settle();
    expect(room.getSessionPermissions(a.sessionId)).toBe('readonly');
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(room.getSnapshot().state).toEqual({});
  });

  it('[C5] readonly can be upgraded to readwrite', async () => {
    const room = createRoom({ onTokenRefresh: async () => ({ permissions: 'readwrite' }) });
    const a = connect(room, { permissions: 'readonly' });
    a.send({ type: 'auth-refresh', token: 't2' });
    await settle();
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(room.getSnapshot().state).toEqual({ k: { _exists: true, x: 1 } });
  });

  it('[C5] metadata is replaced when the result has it', async () => {
    const room = createRoom({
      onTokenRefresh: async () => ({ permissions: 'readwrite', metadata: { name: 'new' } }),
    });
    const a = connect(room, { metadata: { name: 'old' } });
    a.send({ type: 'auth-refresh', token: 't2' });
    await settle();
    expect(room.getSessionMetadata(a.sessionId)).toEqual({ name: 'new' });
  });

  it('[C5] metadata is kept when the result has none', async () => {
    const room = createRoom({ onTokenRefresh: async () => ({ permissions: 'readonly' }) });
    const a = connect(room, { metadata: { name: 'old' } });
    a.send({ type: 'auth-refresh', token: 't2' });
    await settle();
    expect(room.getSessionMetadata(a.sessionId)).toEqual({ name: 'old' });
    expect(room.getSessionPermissions(a.sessionId)).toBe('readonly');
  });

  it('[C5] a refresher that throws closes the socket with 4403 and removes the session', async () => {
    const removed: unknown[] = [];
    const room = createRoom({
      onTokenRefresh: () => {
        throw new Error('expired');
      },
      onSessionRemoved: (_r, info) => removed.push(info),
    });
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    a.send({ type: 'auth-refresh', token: 'bad' });
    await settle();
    expect(a.socket.closed).toEqual({ code: CloseCode.Forbidden, reason: expect.any(String) });
    expect(CloseCode.Forbidden).toBe(4403);
    expect(room.getSessionCount()).toBe(1);
    expect(removed).toEqual([{ sessionId: a.sessionId, remaining: 1 }]);
    expect(b.socket.messages).toEqual([{ type: 'clientCount', count: 1 }]);
  });

  it('[C5] a refresher that rejects closes the socket with 4403 and removes the session', async () => {
    const refresh = deferred<TokenRefreshResult>();
    const room = createRoom({ onTokenRefresh: () => refresh.promise });
    const a = connect(room);
    a.send({ type: 'auth-refresh', token: 'bad' });
    await settle();
    expect(a.socket.closed).toBeNull();
    refresh.reject(new Error('revoked'));
    await settle();
    expect(a.socket.closed?.code).toBe(4403);
    expect(room.getSessions()).toEqual([]);
  });

  it('[C5][O1] frames queued behind a refused refresh are dropped', async () => {
    const refresh = deferred<TokenRefreshResult>();
    const room = createRoom({ onTokenRefresh: () => refresh.promise });
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    a.send({ type: 'auth-refresh', token: 'bad' });
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    refresh.reject(new Error('revoked'));
    await settle();
    expect(room.getSnapshot().timestamp).toBe(0);
    expect(a.socket.ofType('ack')).toEqual([]);
    expect(b.socket.ofType('patch')).toEqual([]);
  });

  it('[C5][B3] without any refresher the session gets auth-refresh-unsupported and stays', async () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    a.send({ type: 'auth-refresh', token: 't2' });
    await settle();
    expect(a.socket.messages).toEqual([
      { type: 'error', code: 'auth-refresh-unsupported', message: expect.any(String) },
    ]);
    expect(a.socket.closed).toBeNull();
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(a.socket.messages.at(-1)).toEqual({ type: 'ack', messageId: 'm1', timestamp: 1 });
  });

  it('[C5] each refresh is checked: a later refused one closes a session an earlier one allowed', async () => {
    const verdicts: Array<() => TokenRefreshResult> = [
      () => ({ permissions: 'readwrite' }),
      () => {
        throw new Error('revoked');
      },
    ];
    const room = createRoom({ onTokenRefresh: async () => (verdicts.shift() as () => TokenRefreshResult)() });
    const a = connect(room);
    a.send({ type: 'auth-refresh', token: 't1' });
    await settle();
    expect(a.socket.closed).toBeNull();
    a.send({ type: 'auth-refresh', token: 't2' });
    await settle();
    expect(a.socket.closed?.code).toBe(CloseCode.Forbidden);
  });
});

describe('per-session onTokenRefresh (C5)', () => {
  it('[C5] receives the new token and overrides the room refresher', async () => {
    const roomRefresh = vi.fn(() => ({ permissions: 'readwrite' as const }));
    const sessionRefresh = vi.fn(async (_token: string) => ({
      permissions: 'readonly' as const,
      metadata: { via: 'session' },
    }));
    const room = createRoom({ onTokenRefresh: roomRefresh });
    const a = connectWith(room, { clientId: 'alice', onTokenRefresh: sessionRefresh });
    const b = connect(room);
    a.send({ type: 'auth-refresh', token: 'tok-2' });
    await settle();
    expect(sessionRefresh).toHaveBeenCalledWith('tok-2');
    expect(roomRefresh).not.toHaveBeenCalled();
    expect(room.getSessionPermissions(a.sessionId)).toBe('readonly');
    expect(room.getSessionMetadata(a.sessionId)).toEqual({ via: 'session' });

    b.send({ type: 'auth-refresh', token: 'tok-b' });
    await settle();
    expect(roomRefresh).toHaveBeenCalledTimes(1);
  });

  it('[C5] works on a room without a room-level refresher', async () => {
    const room = createRoom();
    const a = connectWith(room, {
      clientId: 'alice',
      permissions: 'readonly',
      onTokenRefresh: () => ({ permissions: 'readwrite' }),
    });
    a.socket.clear();
    a.send({ type: 'auth-refresh', token: 'tok-2' });
    await settle();
    expect(a.socket.ofType('error')).toEqual([]);
    expect(room.getSessionPermissions(a.sessionId)).toBe('readwrite');
  });

  it('[C5] a throwing per-session refresher closes only that session with 4403', async () => {
    const room = createRoom();
    const a = connectWith(room, {
      clientId: 'alice',
      onTokenRefresh: () => {
        throw new Error('nope');
      },
    });
    const b = connect(room);
    a.send({ type: 'auth-refresh', token: 'tok-2' });
    await settle();
    expect(a.socket.closed?.code).toBe(4403);
    expect(b.socket.closed).toBeNull();
    expect(room.getSessions().map((s) => s.sessionId)).toEqual([b.sessionId]);
  });
});

describe('frames behind an auth-refresh (O1)', () => {
  it('[O1][C5] later frames wait for the refresh and then run under the new permissions', async () => {
    const refresh = deferred<TokenRefreshResult>();
    const room = createRoom({ onTokenRefresh: () => refresh.promise });
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    clearAll(a, b);
    a.send({ type: 'auth-refresh', token: 't2' });
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    await settle();
    expect(a.socket.messages).toEqual([]);
    expect(room.getSnapshot().timestamp).toBe(0);

    refresh.resolve({ permissions: 'readonly' });
    await settle();
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 0 }]);
    expect(b.socket.messages).toEqual([]);
    expect(room.getSnapshot().timestamp).toBe(0);
  });

  it('[O1] frames held during a refresh are handled in arrival order once it resolves', async () => {
    const refresh = deferred<TokenRefreshResult>();
    const room = createRoom({ onTokenRefresh: () => refresh.promise });
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    clearAll(a, b);
    a.send({ type: 'auth-refresh', token: 't2' });
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    sendPatch(a, 'm2', [{ k: { _exists: true, x: 2 } }]);
    a.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    sendPatch(a, 'm3', [{ k: { _exists: false } }]);
    refresh.resolve({ permissions: 'readwrite' });
    await settle();
    expect(a.socket.messages).toEqual([
      { type: 'ack', messageId: 'm1', timestamp: 1 },
      { type: 'ack', messageId: 'm2', timestamp: 2 },
      { type: 'patch', clientId: '', documentPatches: [{ k: { _exists: true, x: 2 } }], timestamp: 2 },
      { type: 'synced', timestamp: 2 },
      { type: 'ack', messageId: 'm3', timestamp: 3 },
    ]);
    expect(b.socket.ofType('patch').map((m) => m.timestamp)).toEqual([1, 2, 3]);
    expect(room.getSnapshot().state).toEqual({});
  });

  it('[O1] a second auth-refresh held behind the first runs after it, in order', async () => {
    const first = deferred<TokenRefreshResult>();
    const second = deferred<TokenRefreshResult>();
    const pending = [first, second];
    const tokens: string[] = [];
    const room = createRoom({
      onTokenRefresh: (_r, { token }) => {
        tokens.push(token);
        return (pending.shift() as typeof first).promise;
      },
    });
    const a = connect(room);
    a.socket.clear();
    a.send({ type: 'auth-refresh', token: 't1' });
    a.send({ type: 'auth-refresh', token: 't2' });
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    await settle();
    expect(tokens).toEqual(['t1']);
    first.resolve({ permissions: 'readonly' });
    await settle();
    expect(tokens).toEqual(['t1', 't2']);
    expect(a.socket.messages).toEqual([]);
    second.resolve({ permissions: 'readwrite' });
    await settle();
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 1 }]);
  });

  it('[O1] other sessions are not held up by one session refresh', async () => {
    const refresh = deferred<TokenRefreshResult>();
    const room = createRoom({ onTokenRefresh: () => refresh.promise });
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    clearAll(a, b);
    a.send({ type: 'auth-refresh', token: 't2' });
    sendPatch(b, 'b1', [{ k: { _exists: true, x: 1 } }]);
    expect(b.socket.messages).toEqual([{ type: 'ack', messageId: 'b1', timestamp: 1 }]);
    expect(a.socket.messages).toEqual([
      { type: 'patch', clientId: 'bob', documentPatches: [{ k: { _exists: true, x: 1 } }], timestamp: 1 },
    ]);
    refresh.resolve({ permissions: 'readwrite' });
    await settle();
  });
});
