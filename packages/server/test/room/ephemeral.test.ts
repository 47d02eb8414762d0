import { describe, expect, it } from 'vitest';
import { RecordingStorage, sendPatch } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('ephemeral merge (E1)', () => {
  it('[E1] ephemeral patches are broadcast to the others with the author clientId', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    const c = connect(room, { clientId: 'carol' });
    b.socket.clear();
    c.socket.clear();
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1, y: 2 } }]);
    const expected = {
      type: 'patch',
      clientId: 'alice',
      ephemeralPatches: [{ 'cursor/alice': { _exists: true, x: 1, y: 2 } }],
    };
    expect(b.socket.messages).toEqual([expected]);
    expect(c.socket.messages).toEqual([expected]);
  });

  it('[E1][D3] later ephemeral writes merge field by field', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [
      { 'cursor/alice': { _exists: true, x: 1, y: 2 }, 'sel/alice': { _exists: true, ids: ['e1'] } },
    ]);
    sendPatch(a, 'm2', undefined, [{ 'cursor/alice': { x: 7 } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      {
        type: 'patch',
        clientId: '',
        ephemeralPatches: [
          { 'cursor/alice': { _exists: true, x: 7, y: 2 }, 'sel/alice': { _exists: true, ids: ['e1'] } },
        ],
      },
    ]);
  });

  it('[E1][D2] patches of one frame merge in array order', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [
      { 'cursor/alice': { _exists: true, x: 1, y: 1 } },
      { 'cursor/alice': { _exists: true, x: 2 } },
    ]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/alice': { _exists: true, x: 2, y: 1 } }] },
    ]);
  });

  it('[E1][D4] an ephemeral { _exists: false } removes the key from the state newcomers get', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [
      { 'cursor/alice': { _exists: true, x: 1 }, 'sel/alice': { _exists: true, ids: [] } },
    ]);
    sendPatch(a, 'm2', undefined, [{ 'cursor/alice': { _exists: false } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'sel/alice': { _exists: true, ids: [] } }] },
    ]);
  });

  it('[E1][D5] an edit without _exists to a deleted ephemeral key is ignored; _exists: true starts fresh', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1, y: 1 } }]);
    sendPatch(a, 'm2', undefined, [{ 'cursor/alice': { _exists: false } }]);
    sendPatch(a, 'm3', undefined, [{ 'cursor/alice': { y: 8 } }]);
    expect(connect(room, { clientId: 'early' }).socket.ofType('patch')).toEqual([]);
    sendPatch(a, 'm4', undefined, [{ 'cursor/alice': { _exists: true, y: 9 } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/alice': { _exists: true, y: 9 } }] },
    ]);
  });

  it('[E1][D6] ephemeral buffer deltas are materialised against the held array', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [{ 'ink/alice': { _exists: true, pts: [1, 2] } }]);
    sendPatch(a, 'm2', undefined, [{ 'ink/alice': { pts: { __buf: 1, len: 3, runs: [[2, [3]]] } } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'ink/alice': { _exists: true, pts: [1, 2, 3] } }] },
    ]);
  });

  it('[E1] ephemeral state never touches the document, its clock or storage', async () => {
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    await room.flush();
    expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    expect(storage.saved).toEqual([]);
    await room.close();
    expect(storage.saved).toEqual([]);
  });

  it('[E1][E2] the keys of every other client are merged into the state frame a newcomer gets', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    sendPatch(b, 'm1', undefined, [{ 'cursor/bob': { _exists: true, x: 2 } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      {
        type: 'patch',
        clientId: '',
        ephemeralPatches: [
          { 'cursor/alice': { _exists: true, x: 1 }, 'cursor/bob': { _exists: true, x: 2 } },
        ],
      },
    ]);
  });
});

describe('ephemeral state at connect (E2)', () => {
  it('[E2][S1] a new session gets clientCount and then the others ephemeral state from clientId ""', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.messages).toEqual([
      { type: 'clientCount', count: 2 },
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/alice': { _exists: true, x: 1 } }] },
    ]);
  });

  it('[E2] no patch frame is sent at connect when nobody holds ephemeral state', () => {
    const room = createRoom();
    connect(room, { clientId: 'alice' });
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
  });

  it('[E2] ephemeral state deleted entirely is not sent at connect', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    sendPatch(a, 'm2', undefined, [{ 'cursor/alice': { _exists: false } }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
  });
});

describe('ephemeral state of departed clients (E3)', () => {
  it('[E3][S1] the last session of a client leaving broadcasts its keys as deleted', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(a, 'm1', undefined, [
      { 'cursor/alice': { _exists: true, x: 1 }, 'sel/alice': { _exists: true, ids: ['e1'] } },
    ]);
    b.socket.clear();
    room.handleSocketClose(a.sessionId);
    expect(b.socket.messages).toHaveLength(2);
    expect(b.socket.messages).toContainEqual({
      type: 'patch',
      clientId: 'alice',
      ephemeralPatches: [{ 'cursor/alice': { _exists: false }, 'sel/alice': { _exists: false } }],
    });
    expect(b.socket.messages).toContainEqual({ type: 'clientCount', count: 1 });
  });

  it('[E3] a departed client state is forgotten: newcomers do not receive it', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    connect(room, { clientId: 'bob' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    room.handleSocketClose(a.sessionId);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
  });

  it('[E3] a client without ephemeral state leaving sends only the client count', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    b.socket.clear();
    room.handleSocketClose(a.sessionId);
    expect(b.socket.messages).toEqual([{ type: 'clientCount', count: 1 }]);
  });

  it('[E3] a second session with the same clientId keeps the state alive', () => {
    const room = createRoom();
    const tab1 = connect(room, { clientId: 'alice' });
    const tab2 = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(tab1, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    b.socket.clear();
    room.handleSocketClose(tab1.sessionId);
    expect(b.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/alice': { _exists: true, x: 1 } }] },
    ]);

    b.socket.clear();
    room.handleSocketClose(tab2.sessionId);
    expect(b.socket.messages).toContainEqual({
      type: 'patch',
      clientId: 'alice',
      ephemeralPatches: [{ 'cursor/alice': { _exists: false } }],
    });
  });

  it('[E3] handleSocketError also forgets the client state', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(a, 'm1', undefined, [{ 'cursor/alice': { _exists: true, x: 1 } }]);
    b.socket.clear();
    room.handleSocketError(a.sessionId);
    expect(b.socket.messages).toContainEqual({
      type: 'patch',
      clientId: 'alice',
      ephemeralPatches: [{ 'cursor/alice': { _exists: false } }],
    });
    expect(a.socket.closed).not.toBeNull();
  });
});
