import { describe, expect, it } from 'vitest';
import { clearAll, RecordingStorage, sendPatch, sendReconnect } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('document rules through client frames', () => {
  it('[D1] each writing frame advances the room clock by one, whatever its size', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    sendPatch(a, 'm1', [
      { a: { _exists: true, x: 1 }, b: { _exists: true, x: 1 }, c: { _exists: true, x: 1 } },
      { d: { _exists: true, x: 1 } },
    ]);
    sendPatch(a, 'm2', [{ a: { x: 2 } }]);
    expect(a.socket.ofType('ack').map((m) => m.timestamp)).toEqual([1, 2]);
    expect(room.getTimestamp()).toBe(2);
    expect(room.getSnapshot().timestamps).toEqual({
      a: { _exists: 1, x: 2 },
      b: { _exists: 1, x: 1 },
      c: { _exists: 1, x: 1 },
      d: { _exists: 1, x: 1 },
    });
  });

  it('[D1] a frame that mixes empty patches and one key still advances by exactly one', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'm1', [{}, { k: { x: 1 } }, {}], [{}]);
    expect(room.getTimestamp()).toBe(1);
  });

  it('[D1] clocks of different sessions share one counter', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    sendPatch(b, 'b1', [{ k: { y: 1 } }]);
    expect(a.socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'a1', timestamp: 1 }]);
    expect(b.socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'b1', timestamp: 2 }]);
    expect(room.getSnapshot()).toEqual({
      timestamp: 2,
      state: { k: { _exists: true, x: 1, y: 1 } },
      timestamps: { k: { _exists: 1, x: 1, y: 2 } },
    });
  });

  it('[D3] concurrent writers of different fields both keep their fields', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    sendPatch(a, 'a1', [{ 'e1/Rect': { _exists: true, x: 0, y: 0, w: 10 } }]);
    sendPatch(a, 'a2', [{ 'e1/Rect': { x: 5 } }]);
    sendPatch(b, 'b1', [{ 'e1/Rect': { w: 20 } }]);
    expect(room.getSnapshot()).toEqual({
      timestamp: 3,
      state: { 'e1/Rect': { _exists: true, x: 5, y: 0, w: 20 } },
      timestamps: { 'e1/Rect': { _exists: 1, x: 2, y: 1, w: 3 } },
    });
  });

  it('[D4][D10] a deletion removes the component from getSnapshot and is broadcast', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 }, j: { _exists: true } }]);
    b.socket.clear();
    sendPatch(a, 'a2', [{ k: { _exists: false } }]);
    expect(b.socket.messages).toEqual([
      { type: 'patch', clientId: 'alice', documentPatches: [{ k: { _exists: false } }], timestamp: 2 },
    ]);
    expect(room.getSnapshot()).toEqual({
      timestamp: 2,
      state: { j: { _exists: true } },
      timestamps: { j: { _exists: 1 } },
    });
  });

  it('[D5] an edit racing a deletion loses: acked, stamped and broadcast, but no zombie component', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    sendPatch(a, 'a2', [{ k: { _exists: false } }]);
    clearAll(a, b);
    sendPatch(b, 'b1', [{ k: { x: 2 }, fresh: { y: 1 } }]);
    expect(b.socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'b1', timestamp: 3 }]);
    expect(a.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: 'bob', documentPatches: [{ k: { x: 2 }, fresh: { y: 1 } }], timestamp: 3 },
    ]);
    expect(room.getSnapshot()).toEqual({ timestamp: 3, state: {}, timestamps: {} });
    const late = connect(room);
    late.socket.clear();
    sendReconnect(late, 1);
    expect(late.socket.ofType('patch')[0]?.documentPatches).toEqual([{ k: { _exists: false } }]);
  });

  it('[D5] a recreated component holds only the new fields', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1, y: 1 } }]);
    sendPatch(a, 'a2', [{ k: { _exists: false } }]);
    sendPatch(a, 'a3', [{ k: { _exists: true, z: 3 } }]);
    expect(room.getSnapshot()).toEqual({
      timestamp: 3,
      state: { k: { _exists: true, z: 3 } },
      timestamps: { k: { _exists: 3, z: 3 } },
    });
    const late = connect(room);
    late.socket.clear();
    sendReconnect(late, 0);
    expect(late.socket.messages[0]).toEqual({
      type: 'patch',
      clientId: '',
      documentPatches: [{ k: { _exists: true, z: 3 } }],
      timestamp: 3,
    });
  });

  it('[D6] a buffer delta from a client is stored as a whole array', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    sendPatch(a, 'a1', [{ 'e1/Path': { _exists: true, pts: [1, 2, 3, 4, 5] } }]);
    b.socket.clear();
    sendPatch(a, 'a2', [
      {
        'e1/Path': {
          pts: {
            __buf: 1,
            len: 6,
            runs: [
              [0, [10]],
              [5, [60]],
            ],
          },
        },
      },
    ]);
    expect(room.getSnapshot().state).toEqual({ 'e1/Path': { _exists: true, pts: [10, 2, 3, 4, 5, 60] } });
    const broadcasts = b.socket.ofType('patch');
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]?.timestamp).toBe(2);
    const sent = broadcasts[0]?.documentPatches?.[0]?.['e1/Path']?.pts;
    expect([
      {
        __buf: 1,
        len: 6,
        runs: [
          [0, [10]],
          [5, [60]],
        ],
      },
      [10, 2, 3, 4, 5, 60],
    ]).toContainEqual(sent);
  });

  it('[D6] a delta that shortens the array truncates what is stored', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'a1', [{ p: { _exists: true, pts: [1, 2, 3, 4, 5] } }]);
    sendPatch(a, 'a2', [{ p: { pts: { __buf: 1, len: 2, runs: [] } } }]);
    expect(room.getSnapshot().state).toEqual({ p: { _exists: true, pts: [1, 2] } });
  });

  it('[D6] a delta on a field that held no array starts from zeros', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'a1', [{ p: { _exists: true, pts: { __buf: 1, len: 3, runs: [[1, [7]]] } } }]);
    expect(room.getSnapshot().state).toEqual({ p: { _exists: true, pts: [0, 7, 0] } });
  });

  it('[D6][D9][D10] persisted and live snapshots hold whole arrays, never a delta', async () => {
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    const a = connect(room);
    sendPatch(a, 'a1', [{ p: { _exists: true, pts: [5, 5, 5] } }]);
    sendPatch(a, 'a2', [{ p: { pts: { __buf: 1, len: 4, runs: [[2, [1, 2]]] } } }]);
    await room.flush();
    const expected = {
      timestamp: 2,
      state: { p: { _exists: true, pts: [5, 5, 1, 2] } },
      timestamps: { p: { _exists: 1, pts: 2 } },
    };
    expect(storage.last).toEqual(expected);
    expect(room.getSnapshot()).toEqual(expected);
  });
});
