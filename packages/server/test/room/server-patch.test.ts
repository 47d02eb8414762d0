import { describe, expect, it } from 'vitest';
import { type Patch, RoomClosedError } from '../../src/index.js';
import { clearAll, RecordingStorage, sendPatch, sendReconnect } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('room.applyServerPatch', () => {
  it('[D1][API] stamps the patch with a new clock and returns it', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(room.applyServerPatch([{ k: { y: 2 } }, { s: { _exists: true, v: 1 } }])).toBe(2);
    expect(room.getSnapshot()).toEqual({
      timestamp: 2,
      state: { k: { _exists: true, x: 1, y: 2 }, s: { _exists: true, v: 1 } },
      timestamps: { k: { _exists: 1, x: 1, y: 2 }, s: { _exists: 2, v: 2 } },
    });
  });

  it('[A3][API] is broadcast to ALL sessions, readonly included, with clientId ""', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    const reader = connect(room, { clientId: 'reader', permissions: 'readonly' });
    clearAll(a, b, reader);
    room.applyServerPatch([{ k: { _exists: true, x: 1 } }]);
    const expected = {
      type: 'patch',
      clientId: '',
      documentPatches: [{ k: { _exists: true, x: 1 } }],
      timestamp: 1,
    };
    expect(a.socket.messages).toEqual([expected]);
    expect(b.socket.messages).toEqual([expected]);
    expect(reader.socket.messages).toEqual([expected]);
  });

  it('[D4][D5][API] follows the document rules: deletion and fresh recreation', () => {
    const room = createRoom();
    room.applyServerPatch([{ k: { _exists: true, x: 1, y: 1 } }]);
    room.applyServerPatch([{ k: { _exists: false } }]);
    expect(room.getSnapshot().state).toEqual({});
    room.applyServerPatch([{ k: { y: 4 } }]);
    expect(room.getSnapshot()).toEqual({ timestamp: 3, state: {}, timestamps: {} });
    room.applyServerPatch([{ k: { _exists: true, y: 5 } }]);
    expect(room.getSnapshot()).toEqual({
      timestamp: 4,
      state: { k: { _exists: true, y: 5 } },
      timestamps: { k: { _exists: 4, y: 4 } },
    });
  });

  it('[D7][API] server-made changes are in reconnect replies', () => {
    const room = createRoom();
    room.applyServerPatch([{ k: { _exists: true, x: 1 } }]);
    room.applyServerPatch([{ k: { _exists: false } }, { j: { _exists: true, z: 1 } }]);
    const a = connect(room);
    a.socket.clear();
    sendReconnect(a, 1);
    expect(a.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ k: { _exists: false }, j: { _exists: true, z: 1 } }],
        timestamp: 2,
      },
      { type: 'synced', timestamp: 2 },
    ]);
  });

  it('[D9][API] server-made changes are persisted', async () => {
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    room.applyServerPatch([{ k: { _exists: true, x: 1 } }, { gone: { _exists: false } }]);
    await room.flush();
    expect(storage.last).toEqual({
      timestamp: 1,
      state: { k: { _exists: true, x: 1 }, gone: { _exists: false } },
      timestamps: { k: { _exists: 1, x: 1 }, gone: { _exists: 1 } },
    });
  });

  it('[A1][D1][API] empty patches change nothing, send nothing and return the current clock', () => {
    const room = createRoom();
    room.applyServerPatch([{ k: { x: 1 } }]);
    const a = connect(room);
    a.socket.clear();
    expect(room.applyServerPatch([])).toBe(1);
    expect(room.applyServerPatch([{}, {}])).toBe(1);
    expect(a.socket.messages).toEqual([]);
    expect(room.getSnapshot().timestamp).toBe(1);
  });

  it('[D6][API] buffer deltas are materialised into whole arrays', () => {
    const room = createRoom();
    room.applyServerPatch([{ p: { _exists: true, pts: [1, 2, 3] } }]);
    room.applyServerPatch([{ p: { pts: { __buf: 1, len: 2, runs: [[1, [9]]] } } }]);
    expect(room.getSnapshot().state).toEqual({ p: { _exists: true, pts: [1, 9] } });
  });

  const invalid: Array<[string, unknown]> = [
    ['not an array', { k: { x: 1 } }],
    ['null', null],
    ['a patch that is not an object', [5]],
    ['a patch that is an array', [[{ x: 1 }]]],
    ['a component that is not an object', [{ k: 5 }]],
    ['a component that is null', [{ k: null }]],
    ['a key named __proto__', [JSON.parse('{"__proto__": {"x": 1}}')]],
    ['a key named constructor', [{ constructor: { x: 1 } }]],
    ['a field named prototype', [{ k: { prototype: 1 } }]],
    ['a non-boolean _exists', [{ k: { _exists: 'no' } }]],
    ['a malformed buffer delta', [{ k: { pts: { __buf: 1, len: -1, runs: [] } } }]],
    ['a buffer delta run past len', [{ k: { pts: { __buf: 1, len: 2, runs: [[1, [1, 2]]] } } }]],
    ['a valid patch followed by an invalid one', [{ ok: { x: 1 } }, { bad: 7 }]],
  ];
  for (const [name, patches] of invalid) {
    it(`[B2][API] ${name}: throws TypeError and changes nothing`, () => {
      const calls: string[] = [];
      const room = createRoom({
        onDataChange: () => calls.push('data'),
        onDocumentPatch: () => calls.push('patch'),
      });
      room.applyServerPatch([{ k: { _exists: true, x: 1 } }]);
      const before = room.getSnapshot();
      const a = connect(room);
      a.socket.clear();
      calls.length = 0;
      expect(() => room.applyServerPatch(patches as Patch[])).toThrow(TypeError);
      expect(room.getSnapshot()).toEqual(before);
      expect(a.socket.messages).toEqual([]);
      expect(calls).toEqual([]);
      expect(room.applyServerPatch([{ k: { y: 1 } }])).toBe(2);
    });
  }

  it('[API] throws RoomClosedError on a closed room', async () => {
    const room = createRoom();
    await room.close();
    expect(() => room.applyServerPatch([{ k: { x: 1 } }])).toThrow(RoomClosedError);
  });
});
