import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/index.js';
import { clearAll, sendPatch, sendReconnect } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

/** A room at clock 4 with a live key, an updated key and a deleted key. */
function roomWithHistory() {
  const room = createRoom();
  const writer = connect(room, { clientId: 'writer' });
  sendPatch(writer, 'w1', [{ a: { _exists: true, x: 1, y: 1 }, b: { _exists: true, v: 1 } }]); // 1
  sendPatch(writer, 'w2', [{ a: { x: 2 } }]); // 2
  sendPatch(writer, 'w3', [{ b: { _exists: false } }]); // 3
  sendPatch(writer, 'w4', [{ c: { _exists: true, z: 1 } }]); // 4
  return { room, writer };
}

describe('reconnect reply (D7)', () => {
  it('[D7] replies with every field stamped after lastTimestamp, tombstones as _exists:false, then synced', () => {
    const { room } = roomWithHistory();
    const late = connect(room);
    late.socket.clear();
    sendReconnect(late, 1);
    expect(late.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        // c was created after lastTimestamp but never deleted: no leading tombstone; a only gets its new field.
        documentPatches: [{ a: { x: 2 }, b: { _exists: false }, c: { _exists: true, z: 1 } }],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
  });

  it('[D7] lastTimestamp 0 gets the whole live document plus the tombstones', () => {
    const { room } = roomWithHistory();
    const fresh = connect(room);
    fresh.socket.clear();
    sendReconnect(fresh, 0);
    expect(fresh.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [
          { a: { _exists: true, x: 2, y: 1 }, b: { _exists: false }, c: { _exists: true, z: 1 } },
        ],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
  });

  it('[D7] the patch frame is omitted when nothing changed and nobody has ephemeral state', () => {
    const { room } = roomWithHistory();
    const upToDate = connect(room);
    upToDate.socket.clear();
    sendReconnect(upToDate, 4);
    expect(upToDate.socket.messages).toEqual([{ type: 'synced', timestamp: 4 }]);
  });

  it('[D7] a new empty room replies with synced at clock 0 only', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    sendReconnect(a, 0);
    expect(a.socket.messages).toEqual([{ type: 'synced', timestamp: 0 }]);
  });

  it('[D7][E2] the reply carries other clients ephemeral state, without timestamp when no document part', () => {
    const { room, writer } = roomWithHistory();
    sendPatch(writer, 'e1', undefined, [{ 'cursor/writer': { _exists: true, x: 5, y: 6 } }]);
    const late = connect(room, { clientId: 'late' });
    late.socket.clear();
    sendReconnect(late, 4);
    expect(late.socket.messages).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/writer': { _exists: true, x: 5, y: 6 } }] },
      { type: 'synced', timestamp: 4 },
    ]);
  });

  it('[D7] document and ephemeral parts share one reply frame; own ephemeral state is not echoed', () => {
    const { room, writer } = roomWithHistory();
    sendPatch(writer, 'e1', undefined, [{ 'cursor/writer': { _exists: true, x: 5 } }]);
    const late = connect(room, { clientId: 'late' });
    late.socket.clear();
    sendReconnect(late, 3, { ephemeralPatches: [{ 'cursor/late': { _exists: true, x: 1 } }] });
    expect(late.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ c: { _exists: true, z: 1 } }],
        ephemeralPatches: [{ 'cursor/writer': { _exists: true, x: 5 } }],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
  });

  it('[D7][A3] the reconnect frame own patches are applied first, broadcast to others, and in the reply', () => {
    const { room, writer } = roomWithHistory();
    const back = connect(room, { clientId: 'back' });
    clearAll(writer, back);
    sendReconnect(back, 4, { documentPatches: [{ d: { _exists: true, w: 1 } }] });
    expect(writer.socket.messages).toEqual([
      { type: 'patch', clientId: 'back', documentPatches: [{ d: { _exists: true, w: 1 } }], timestamp: 5 },
    ]);
    expect(back.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ d: { _exists: true, w: 1 } }],
        timestamp: 5,
      },
      { type: 'synced', timestamp: 5 },
    ]);
    expect(room.getSnapshot().state.d).toEqual({ _exists: true, w: 1 });
  });

  it('[D7][D1] a reconnect with only empty patches does not move the clock', () => {
    const { room } = roomWithHistory();
    const back = connect(room);
    back.socket.clear();
    sendReconnect(back, 4, { documentPatches: [{}], ephemeralPatches: [] });
    expect(back.socket.messages).toEqual([{ type: 'synced', timestamp: 4 }]);
    expect(room.getSnapshot().timestamp).toBe(4);
  });

  it('[D7][D6] the reply is valued from current state: buffer fields are whole arrays', () => {
    const room = createRoom();
    const a = connect(room);
    sendPatch(a, 'm1', [{ p: { _exists: true, pts: [1, 2, 3] } }]);
    sendPatch(a, 'm2', [{ p: { pts: { __buf: 1, len: 4, runs: [[3, [4]]] } } }]);
    const late = connect(room);
    late.socket.clear();
    sendReconnect(late, 1);
    expect(late.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ p: { pts: [1, 2, 3, 4] } }],
        timestamp: 2,
      },
      { type: 'synced', timestamp: 2 },
    ]);
  });

  it('[§3] a reconnect with a version other than PROTOCOL_VERSION gets version-mismatch and nothing is applied', () => {
    const { room, writer } = roomWithHistory();
    const old = connect(room);
    clearAll(writer, old);
    sendReconnect(old, 0, { protocolVersion: 1, documentPatches: [{ z: { x: 1 } }] });
    expect(old.socket.messages).toEqual([
      { type: 'version-mismatch', serverProtocolVersion: PROTOCOL_VERSION },
    ]);
    expect(PROTOCOL_VERSION).toBe(2);
    expect(writer.socket.messages).toEqual([]);
    expect(room.getSnapshot().timestamp).toBe(4);
  });
});

describe('readonly reconnect (A2)', () => {
  it('[A2][D7] a readonly reconnect gets the reply and synced; its patches are not applied', () => {
    const { room, writer } = roomWithHistory();
    const reader = connect(room, { permissions: 'readonly', clientId: 'reader' });
    clearAll(writer, reader);
    sendReconnect(reader, 2, {
      documentPatches: [{ a: { x: 100 } }],
      ephemeralPatches: [{ 'cursor/reader': { _exists: true, x: 1 } }],
    });
    expect(reader.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ b: { _exists: false }, c: { _exists: true, z: 1 } }],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
    expect(writer.socket.messages).toEqual([]);
    expect(room.getSnapshot().state.a).toEqual({ _exists: true, x: 2, y: 1 });
    const late = connect(room);
    expect(late.socket.ofType('patch')).toEqual([]);
  });

  it('[A2][D8] a readonly client ahead of the room clock is not asked to resync but still gets synced', () => {
    const { room } = roomWithHistory();
    const reader = connect(room, { permissions: 'readonly' });
    reader.socket.clear();
    sendReconnect(reader, 10);
    expect(reader.socket.ofType('resync')).toEqual([]);
    expect(reader.socket.messages.at(-1)).toEqual({ type: 'synced', timestamp: 4 });
  });
});

describe('rollback heal (D8)', () => {
  it('[D8] a readwrite client ahead of the clock gets resync(since = clock) before the whole-document reply', () => {
    const { room } = roomWithHistory();
    const ahead = connect(room);
    ahead.socket.clear();
    sendReconnect(ahead, 9);
    expect(ahead.socket.messages).toEqual([
      { type: 'resync', since: 4 },
      {
        type: 'patch',
        clientId: '',
        documentPatches: [
          { a: { _exists: true, x: 2, y: 1 }, b: { _exists: false }, c: { _exists: true, z: 1 } },
        ],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
  });

  it('[D8] since is the clock before the frame, even when the frame itself writes', () => {
    const { room, writer } = roomWithHistory();
    const ahead = connect(room, { clientId: 'ahead' });
    clearAll(writer, ahead);
    sendReconnect(ahead, 7, { documentPatches: [{ n: { _exists: true, q: 1 } }] });
    expect(ahead.socket.messages[0]).toEqual({ type: 'resync', since: 4 });
    expect(ahead.socket.messages.at(-1)).toEqual({ type: 'synced', timestamp: 5 });
    expect(writer.socket.messages).toEqual([
      { type: 'patch', clientId: 'ahead', documentPatches: [{ n: { _exists: true, q: 1 } }], timestamp: 5 },
    ]);
  });

  it('[D8] a client exactly at the room clock is not asked to resync', () => {
    const { room } = roomWithHistory();
    const same = connect(room);
    same.socket.clear();
    sendReconnect(same, 4);
    expect(same.socket.messages).toEqual([{ type: 'synced', timestamp: 4 }]);
  });

  it('[D8] the client answer to resync is an ordinary patch: applied, acked and broadcast', () => {
    const { room, writer } = roomWithHistory();
    const ahead = connect(room, { clientId: 'ahead' });
    sendReconnect(ahead, 9);
    clearAll(writer, ahead);
    sendPatch(ahead, 'heal', [{ lost: { _exists: true, v: 1 } }]);
    expect(ahead.socket.messages).toEqual([{ type: 'ack', messageId: 'heal', timestamp: 5 }]);
    expect(writer.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: 'ahead',
        documentPatches: [{ lost: { _exists: true, v: 1 } }],
        timestamp: 5,
      },
    ]);
    expect(room.getSnapshot().state.lost).toEqual({ _exists: true, v: 1 });
  });

  it('[D8] an empty room asks a client that saw writes for them back', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    sendReconnect(a, 3);
    expect(a.socket.messages).toEqual([
      { type: 'resync', since: 0 },
      { type: 'synced', timestamp: 0 },
    ]);
  });
});

describe('reconnect reply replaces keys deleted after lastTimestamp and re-created (D7, D5, D2)', () => {
  it('[D7][D5][D2] a key deleted and re-created while the client was away arrives as a tombstone, then whole', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1, b: 2 } }] });
    writer.send({ type: 'patch', messageId: 'm2', documentPatches: [{ k: { _exists: false } }] });
    writer.send({ type: 'patch', messageId: 'm3', documentPatches: [{ k: { _exists: true, c: 3 } }] });
    const away = connect(room, { clientId: 'away' });
    away.socket.clear();
    // The client last saw clock 1, when k held { a, b }: applying the patches in
    // order must leave it with exactly { _exists, c }, nothing of a or b.
    away.send({ type: 'reconnect', lastTimestamp: 1, protocolVersion: 2 });
    const reply = away.socket.ofType('patch')[0];
    expect(reply?.documentPatches).toEqual([{ k: { _exists: false } }, { k: { _exists: true, c: 3 } }]);
  });

  it('[D7] a key the reconnecting client re-creates in its own frame gets no leading tombstone', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1 } }] });
    writer.send({ type: 'patch', messageId: 'm2', documentPatches: [{ k: { _exists: false } }] });
    const back = connect(room, { clientId: 'back' });
    back.socket.clear();
    // It holds what it wrote; a tombstone would survive its in-flight masking and delete it locally.
    back.send({
      type: 'reconnect',
      lastTimestamp: 1,
      protocolVersion: 2,
      documentPatches: [{ k: { _exists: true, a: 5 } }],
    });
    expect(back.socket.ofType('patch')[0]?.documentPatches).toEqual([{ k: { _exists: true, a: 5 } }]);
  });

  it('[D7] a frame that deletes and then re-creates a key (a replaced component) still gets the leading tombstone', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1, b: 1 } }] });
    const back = connect(room, { clientId: 'back' });
    back.socket.clear();
    back.send({
      type: 'reconnect',
      lastTimestamp: 1,
      protocolVersion: 2,
      documentPatches: [{ k: { _exists: false } }, { k: { _exists: true, a: 5 } }],
    });
    expect(back.socket.ofType('patch')[0]?.documentPatches).toEqual([
      { k: { _exists: false } },
      { k: { _exists: true, a: 5 } },
    ]);
  });

  it('[D7] a key whose every field was rewritten, but never deleted, gets no leading tombstone', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1 } }] });
    writer.send({ type: 'patch', messageId: 'm2', documentPatches: [{ k: { _exists: true, a: 2 } }] });
    const away = connect(room, { clientId: 'away' });
    away.socket.clear();
    away.send({ type: 'reconnect', lastTimestamp: 1, protocolVersion: 2 });
    expect(away.socket.ofType('patch')[0]?.documentPatches).toEqual([{ k: { _exists: true, a: 2 } }]);
  });

  it('[D7] a key deleted and re-created before lastTimestamp is sent like any other key', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1 } }] });
    writer.send({ type: 'patch', messageId: 'm2', documentPatches: [{ k: { _exists: false } }] });
    writer.send({ type: 'patch', messageId: 'm3', documentPatches: [{ k: { _exists: true, a: 2 } }] });
    writer.send({ type: 'patch', messageId: 'm4', documentPatches: [{ k: { b: 3 } }] });
    const away = connect(room, { clientId: 'away' });
    away.socket.clear();
    away.send({ type: 'reconnect', lastTimestamp: 2, protocolVersion: 2 });
    expect(away.socket.ofType('patch')[0]?.documentPatches).toEqual([{ k: { _exists: true, a: 2, b: 3 } }]);
  });

  it('[D7][D3] a key that only had some fields updated is merged, not replaced', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1, b: 2 } }] });
    writer.send({ type: 'patch', messageId: 'm2', documentPatches: [{ k: { b: 5 } }] });
    const away = connect(room, { clientId: 'away' });
    away.socket.clear();
    away.send({ type: 'reconnect', lastTimestamp: 1, protocolVersion: 2 });
    expect(away.socket.ofType('patch')[0]?.documentPatches).toEqual([{ k: { b: 5 } }]);
  });

  it('[D7] a client starting from 0 holds nothing, so it gets a single patch without tombstones for live keys', () => {
    const room = createRoom();
    const writer = connect(room, { clientId: 'writer' });
    writer.send({ type: 'patch', messageId: 'm0', documentPatches: [{ k: { _exists: true, z: 0 } }] });
    writer.send({ type: 'patch', messageId: 'm0d', documentPatches: [{ k: { _exists: false } }] });
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ k: { _exists: true, a: 1 } }] });
    const fresh = connect(room, { clientId: 'fresh' });
    fresh.socket.clear();
    fresh.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    expect(fresh.socket.ofType('patch')[0]?.documentPatches).toEqual([{ k: { _exists: true, a: 1 } }]);
  });
});
