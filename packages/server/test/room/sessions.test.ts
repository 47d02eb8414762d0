import { describe, expect, it } from 'vitest';
import { CloseCode, type Room, RoomClosedError } from '../../src/index.js';
import { clearAll, sendPatch } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('client count (S1)', () => {
  it('[S1] every connect broadcasts the new count to all sessions, the newcomer included', () => {
    const room = createRoom();
    const a = connect(room);
    expect(a.socket.messages).toEqual([{ type: 'clientCount', count: 1 }]);
    const b = connect(room);
    expect(a.socket.messages).toEqual([
      { type: 'clientCount', count: 1 },
      { type: 'clientCount', count: 2 },
    ]);
    expect(b.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
    const c = connect(room);
    expect(c.socket.messages).toEqual([{ type: 'clientCount', count: 3 }]);
    expect(a.socket.messages.at(-1)).toEqual({ type: 'clientCount', count: 3 });
  });

  it('[S1] every disconnect broadcasts the new count to the remaining sessions', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    const c = connect(room);
    clearAll(a, b, c);
    room.handleSocketClose(b.sessionId);
    expect(a.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
    expect(c.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
    expect(b.socket.messages).toEqual([]);
    room.handleSocketError(c.sessionId);
    expect(a.socket.messages).toEqual([
      { type: 'clientCount', count: 2 },
      { type: 'clientCount', count: 1 },
    ]);
  });

  it('[S1] sessions of the same clientId count separately', () => {
    const room = createRoom();
    connect(room, { clientId: 'same' });
    const b = connect(room, { clientId: 'same' });
    expect(b.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
    expect(room.getSessionCount()).toBe(2);
  });

  it('[S1][S2] closing an unknown or already removed session broadcasts nothing', () => {
    const removed: unknown[] = [];
    const room = createRoom({ onSessionRemoved: (_r, info) => removed.push(info) });
    const a = connect(room);
    const b = connect(room);
    room.handleSocketClose(b.sessionId);
    a.socket.clear();
    removed.length = 0;
    room.handleSocketClose(b.sessionId);
    room.handleSocketClose('no-such-session');
    room.handleSocketError('no-such-session');
    expect(a.socket.messages).toEqual([]);
    expect(removed).toEqual([]);
  });
});

describe('onSessionRemoved (S2)', () => {
  it('[S2] fires after each removal with the session id and the remaining count', () => {
    const calls: Array<{ room: Room; info: { sessionId: string; remaining: number }; count: number }> = [];
    const room = createRoom({
      onSessionRemoved: (r, info) => calls.push({ room: r, info, count: r.getSessionCount() }),
    });
    const a = connect(room);
    const b = connect(room);
    room.handleSocketClose(a.sessionId);
    room.handleSocketError(b.sessionId);
    expect(calls).toEqual([
      { room, info: { sessionId: a.sessionId, remaining: 1 }, count: 1 },
      { room, info: { sessionId: b.sessionId, remaining: 0 }, count: 0 },
    ]);
  });

  it('[S2] a throwing onSessionRemoved does not disturb the room', () => {
    const room = createRoom({
      onSessionRemoved: () => {
        throw new Error('boom');
      },
    });
    const a = connect(room);
    const b = connect(room);
    b.socket.clear();
    expect(() => room.handleSocketClose(a.sessionId)).not.toThrow();
    expect(room.getSessionCount()).toBe(1);
    sendPatch(b, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(b.socket.messages).toEqual([
      { type: 'clientCount', count: 1 },
      { type: 'ack', messageId: 'm1', timestamp: 1 },
    ]);
  });
});

describe('session API', () => {
  it('[API] handleSocketConnect returns a unique session id per connection', () => {
    const room = createRoom();
    const ids = new Set(Array.from({ length: 20 }, () => connect(room, { clientId: 'same' }).sessionId));
    expect(ids.size).toBe(20);
    for (const id of ids) expect(typeof id).toBe('string');
  });

  it('[API] getSessionCount and getSessions follow connects and disconnects', () => {
    const room = createRoom();
    expect(room.getSessionCount()).toBe(0);
    expect(room.getSessions()).toEqual([]);
    const a = connect(room, { clientId: 'alice', metadata: { name: 'Alice' } });
    const b = connect(room, { clientId: 'bob', permissions: 'readonly' });
    expect(room.getSessionCount()).toBe(2);
    const sessions = room.getSessions();
    expect(sessions).toHaveLength(2);
    expect(sessions).toContainEqual({
      sessionId: a.sessionId,
      clientId: 'alice',
      permissions: 'readwrite',
      metadata: { name: 'Alice' },
    });
    expect(sessions).toContainEqual(
      expect.objectContaining({ sessionId: b.sessionId, clientId: 'bob', permissions: 'readonly' }),
    );
    room.handleSocketClose(a.sessionId);
    expect(room.getSessionCount()).toBe(1);
    expect(room.getSessions().map((s) => s.sessionId)).toEqual([b.sessionId]);
  });

  it('[API][A2] get/setSessionPermissions read and change what a session may do', () => {
    const room = createRoom();
    const a = connect(room, { permissions: 'readonly' });
    expect(room.getSessionPermissions(a.sessionId)).toBe('readonly');
    room.setSessionPermissions(a.sessionId, 'readwrite');
    expect(room.getSessionPermissions(a.sessionId)).toBe('readwrite');
    expect(room.getSessions()[0]?.permissions).toBe('readwrite');
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(room.getSnapshot().state).toEqual({ k: { _exists: true, x: 1 } });
    room.setSessionPermissions(a.sessionId, 'readonly');
    sendPatch(a, 'm2', [{ k: { _exists: true, x: 2 } }]);
    expect(room.getSnapshot().state).toEqual({ k: { _exists: true, x: 1 } });
  });

  it('[API] session permissions of an unknown session are undefined; setting them is ignored', () => {
    const room = createRoom();
    expect(room.getSessionPermissions('nope')).toBeUndefined();
    expect(() => room.setSessionPermissions('nope', 'readwrite')).not.toThrow();
    expect(room.getSessions()).toEqual([]);
  });

  it('[API] setSessionPermissions rejects values other than readonly/readwrite', () => {
    const room = createRoom();
    const a = connect(room);
    expect(() => room.setSessionPermissions(a.sessionId, 'admin' as never)).toThrow(TypeError);
    expect(room.getSessionPermissions(a.sessionId)).toBe('readwrite');
  });

  it('[API] get/setSessionMetadata hold any per-session value', () => {
    const room = createRoom();
    const a = connect(room, { metadata: { role: 'viewer' } });
    const b = connect(room);
    expect(room.getSessionMetadata(a.sessionId)).toEqual({ role: 'viewer' });
    expect(room.getSessionMetadata(b.sessionId)).toBeUndefined();
    room.setSessionMetadata(b.sessionId, { role: 'editor' });
    expect(room.getSessionMetadata(b.sessionId)).toEqual({ role: 'editor' });
    expect(room.getSessionMetadata(a.sessionId)).toEqual({ role: 'viewer' });
    expect(room.getSessions()).toContainEqual({
      sessionId: b.sessionId,
      clientId: b.clientId,
      permissions: 'readwrite',
      metadata: { role: 'editor' },
    });
    expect(room.getSessionMetadata('nope')).toBeUndefined();
    room.handleSocketClose(a.sessionId);
    expect(room.getSessionMetadata(a.sessionId)).toBeUndefined();
  });

  it('[API] handleSocketConnect validates clientId and permissions', () => {
    const room = createRoom();
    expect(() => connect(room, { clientId: '' })).toThrow(TypeError);
    expect(() => connect(room, { permissions: 'owner' as never })).toThrow(TypeError);
    expect(room.getSessionCount()).toBe(0);
  });

  it('[API] frames for an unknown session are ignored without throwing', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    expect(() =>
      room.handleSocketMessage(
        'nope',
        JSON.stringify({ type: 'patch', messageId: 'm', documentPatches: [{ k: {} }] }),
      ),
    ).not.toThrow();
    expect(room.getSnapshot().timestamp).toBe(0);
    expect(a.socket.messages).toEqual([]);
  });

  it('[API] frames of a closed session are ignored', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    room.handleSocketClose(a.sessionId);
    b.socket.clear();
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(b.socket.messages).toEqual([]);
    expect(room.getSnapshot().timestamp).toBe(0);
  });
});

describe('Room.close', () => {
  it('[API] closes every socket with GoingAway and drops all sessions', async () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    await room.close();
    expect(a.socket.closed).toEqual({ code: CloseCode.GoingAway, reason: expect.any(String) });
    expect(b.socket.closed?.code).toBe(1001);
    expect(room.getSessionCount()).toBe(0);
    expect(room.getSessions()).toEqual([]);
    expect(room.isClosed).toBe(true);
  });

  it('[API] a closed room refuses new sessions and ignores frames', async () => {
    const room = createRoom();
    const a = connect(room);
    await room.close();
    expect(() => connect(room)).toThrow(RoomClosedError);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(room.getSnapshot().timestamp).toBe(0);
  });

  it('[API] calling close twice returns the same promise', () => {
    const room = createRoom();
    const first = room.close();
    expect(room.close()).toBe(first);
    return first;
  });
});
