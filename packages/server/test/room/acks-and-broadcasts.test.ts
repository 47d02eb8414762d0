import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/index.js';
import { clearAll, RecordingStorage, sendPatch, settle } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('acks (A1)', () => {
  it('[A1] a patch frame with a document patch is acked with its messageId and the new clock', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    sendPatch(a, 'msg-1', [{ 'e1/Pos': { _exists: true, x: 1 } }]);
    sendPatch(a, 'msg-2', [{ 'e1/Pos': { _exists: true, x: 2 } }]);
    expect(a.socket.messages).toEqual([
      { type: 'ack', messageId: 'msg-1', timestamp: 1 },
      { type: 'ack', messageId: 'msg-2', timestamp: 2 },
    ]);
  });

  it('[A1][D1] an ephemeral-only frame is acked with the unchanged clock', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'm1', [{ 'e1/Pos': { _exists: true, x: 1 } }]);
    a.socket.clear();
    sendPatch(a, 'm2', undefined, [{ 'cursor/a': { _exists: true, x: 5 } }]);
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm2', timestamp: 1 }]);
    expect(room.getSnapshot().timestamp).toBe(1);
  });

  it('[A1] a frame with no patches at all gets no ack', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    a.send({ type: 'patch', messageId: 'm1' });
    expect(a.socket.messages).toEqual([]);
    expect(b.socket.messages).toEqual([]);
  });

  it('[A1][D1] a frame whose patches are all empty gets no ack and does not move the clock', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'm1', [{}, {}], [{}]);
    sendPatch(a, 'm2', [], []);
    expect(a.socket.messages).toEqual([]);
    expect(b.socket.messages).toEqual([]);
    expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });

  it('[A1] empty patches next to a non-empty one do not prevent the ack', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    sendPatch(a, 'm1', [{}, { k: { _exists: true, x: 1 } }, {}]);
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 1 }]);
  });
});

describe('readonly sessions (A2)', () => {
  it('[A2] a readonly patch is acked with the current clock but neither applied nor broadcast', () => {
    const onDataChange: unknown[] = [];
    const room = createRoom({ onDataChange: () => onDataChange.push(1) });
    const writer = connect(room);
    const reader = connect(room, { permissions: 'readonly' });
    const other = connect(room);
    sendPatch(writer, 'w1', [{ k: { _exists: true, x: 1 } }]);
    const before = room.getSnapshot();
    clearAll(writer, reader, other);
    onDataChange.length = 0;

    sendPatch(
      reader,
      'r1',
      [{ k: { _exists: true, x: 99 }, j: { _exists: true, y: 1 } }],
      [{ 'cursor/r': { _exists: true, x: 1 } }],
    );

    expect(reader.socket.messages).toEqual([{ type: 'ack', messageId: 'r1', timestamp: 1 }]);
    expect(writer.socket.messages).toEqual([]);
    expect(other.socket.messages).toEqual([]);
    expect(room.getSnapshot()).toEqual(before);
    expect(onDataChange).toEqual([]);
  });

  it('[A2][E2] a readonly session ephemeral patch is not kept for newcomers', () => {
    const room = createRoom();
    const reader = connect(room, { permissions: 'readonly' });
    sendPatch(reader, 'r1', undefined, [{ 'cursor/r': { _exists: true, x: 1 } }]);
    const late = connect(room);
    expect(late.socket.ofType('patch')).toEqual([]);
  });

  it('[A2][A1] a readonly frame with only empty patches gets no ack', () => {
    const room = createRoom();
    const reader = connect(room, { permissions: 'readonly' });
    reader.socket.clear();
    sendPatch(reader, 'r1', [{}]);
    expect(reader.socket.messages).toEqual([]);
  });
});

describe('broadcasts (A3)', () => {
  it('[A3][D1] a write is broadcast to every other session with the author clientId and clock', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    const c = connect(room, { clientId: 'carol' });
    clearAll(a, b, c);
    sendPatch(a, 'm1', [{ 'e1/Pos': { _exists: true, x: 1 } }]);
    const expected = {
      type: 'patch',
      clientId: 'alice',
      documentPatches: [{ 'e1/Pos': { _exists: true, x: 1 } }],
      timestamp: 1,
    };
    expect(b.socket.messages).toEqual([expected]);
    expect(c.socket.messages).toEqual([expected]);
  });

  it('[A3] the author never receives its own write back', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }], [{ 'cursor/a': { _exists: true, x: 1 } }]);
    sendPatch(a, 'm2', undefined, [{ 'cursor/a': { _exists: true, x: 2 } }]);
    expect(a.socket.messages).toEqual([
      { type: 'ack', messageId: 'm1', timestamp: 1 },
      { type: 'ack', messageId: 'm2', timestamp: 1 },
    ]);
  });

  it('[A3] another session of the same clientId does receive the write', () => {
    const room = createRoom();
    const tab1 = connect(room, { clientId: 'same' });
    const tab2 = connect(room, { clientId: 'same' });
    clearAll(tab1, tab2);
    sendPatch(tab1, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(tab2.socket.messages).toEqual([
      { type: 'patch', clientId: 'same', documentPatches: [{ k: { _exists: true, x: 1 } }], timestamp: 1 },
    ]);
  });

  it('[A3] document and ephemeral parts of one frame travel in one broadcast', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }], [{ 'cursor/alice': { _exists: true, x: 3 } }]);
    expect(b.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: 'alice',
        documentPatches: [{ k: { _exists: true, x: 1 } }],
        ephemeralPatches: [{ 'cursor/alice': { _exists: true, x: 3 } }],
        timestamp: 1,
      },
    ]);
  });

  it('[A3][E1] an ephemeral-only broadcast carries no timestamp', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 3 } }]);
    expect(b.socket.messages).toEqual([
      { type: 'patch', clientId: 'alice', ephemeralPatches: [{ 'cursor/alice': { _exists: true, x: 3 } }] },
    ]);
  });

  it('[A3][D2] a broadcast keeps the patches of the frame in their order', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'm1', [
      { k: { _exists: true, x: 1 } },
      { k: { _exists: true, x: 2 } },
      { j: { _exists: false } },
    ]);
    expect(b.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: 'alice',
        documentPatches: [
          { k: { _exists: true, x: 1 } },
          { k: { _exists: true, x: 2 } },
          { j: { _exists: false } },
        ],
        timestamp: 1,
      },
    ]);
    expect(room.getSnapshot().state).toEqual({ k: { _exists: true, x: 2 } });
  });

  it('[A3] a readwrite session made readonly stops broadcasting', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    room.setSessionPermissions(a.sessionId, 'readonly');
    clearAll(a, b);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 0 }]);
    expect(b.socket.messages).toEqual([]);
    expect(room.getSnapshot().state).toEqual({});
  });
});

describe('acks and broadcasts are sent with in-memory or no storage (O4)', () => {
  for (const [name, makeStorage] of [
    ['no storage', () => undefined],
    ['MemoryStorage', () => new MemoryStorage()],
    ['a custom load/save storage', () => new RecordingStorage()],
  ] as const) {
    it(`[O4][A1][A3] ${name}: the ack and the broadcast are delivered`, async () => {
      const storage = makeStorage();
      const room = createRoom(storage ? { storage } : {});
      await room.load();
      const a = connect(room, { clientId: 'alice' });
      const b = connect(room, { clientId: 'bob' });
      clearAll(a, b);
      sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
      await settle();
      expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 1 }]);
      expect(b.socket.messages).toEqual([
        { type: 'patch', clientId: 'alice', documentPatches: [{ k: { _exists: true, x: 1 } }], timestamp: 1 },
      ]);
      await room.close();
    });
  }

  it('[O4] without storage the frames are sent before handleSocketMessage returns', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    clearAll(a, b);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(a.socket.ofType('ack')).toHaveLength(1);
    expect(b.socket.ofType('patch')).toHaveLength(1);
  });
});
