import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStorage, type RoomSnapshot, SnapshotFormatError, type Storage } from '../../src/index.js';
import { RecordingStorage, sendPatch, sendReconnect, settle } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

const saved: RoomSnapshot = {
  timestamp: 5,
  state: { 'e1/Pos': { _exists: true, x: 1 }, 'e2/Pos': { _exists: false } },
  timestamps: { 'e1/Pos': { _exists: 1, x: 5 }, 'e2/Pos': { _exists: 4 } },
};

describe('load, flush and close with storage', () => {
  it('[D9][D10] load() restores a MemoryStorage snapshot; getSnapshot hides its tombstones', async () => {
    const storage = new MemoryStorage();
    await storage.save(saved);
    const room = createRoom({ storage });
    await room.load();
    expect(room.getSnapshot()).toEqual({
      timestamp: 5,
      state: { 'e1/Pos': { _exists: true, x: 1 } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 5 } },
    });
    expect(room.getTimestamp()).toBe(5);
  });

  it('[D9] a loaded tombstone reaches a client that was away when the key was deleted', async () => {
    const room = createRoom({ storage: new RecordingStorage(saved) });
    await room.load();
    const back = connect(room);
    back.socket.clear();
    sendReconnect(back, 3);
    expect(back.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ 'e1/Pos': { x: 1 }, 'e2/Pos': { _exists: false } }],
        timestamp: 5,
      },
      { type: 'synced', timestamp: 5 },
    ]);
  });

  it('[D9] what Storage.save receives includes tombstones with their stamps', async () => {
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    const a = connect(room);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 }, j: { _exists: true, y: 1 } }]);
    sendPatch(a, 'm2', [{ j: { _exists: false } }]);
    await room.flush();
    expect(storage.last).toEqual({
      timestamp: 2,
      state: { k: { _exists: true, x: 1 }, j: { _exists: false } },
      timestamps: { k: { _exists: 1, x: 1 }, j: { _exists: 2 } },
    });
    expect(room.getSnapshot()).toEqual({
      timestamp: 2,
      state: { k: { _exists: true, x: 1 } },
      timestamps: { k: { _exists: 1, x: 1 } },
    });
  });

  it('[D9] deletions survive any number of restarts', async () => {
    const storage = new MemoryStorage();
    const first = createRoom({ storage });
    await first.load();
    const a = connect(first);
    sendPatch(a, 'm1', [{ gone: { _exists: true, x: 1 }, kept: { _exists: true, y: 1 } }]); // 1
    sendPatch(a, 'm2', [{ gone: { _exists: false } }]); // 2
    await first.close();

    for (let restart = 0; restart < 3; restart++) {
      const room = createRoom({ storage });
      await room.load();
      const w = connect(room);
      sendPatch(w, `r${restart}`, [{ kept: { y: restart + 10 } }]);
      await room.close();
    }

    const last = createRoom({ storage });
    await last.load();
    const away = connect(last);
    away.socket.clear();
    sendReconnect(away, 1);
    await settle();
    expect(away.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ gone: { _exists: false }, kept: { y: 12 } }],
        timestamp: 5,
      },
      { type: 'synced', timestamp: 5 },
    ]);
  });

  it('[API] load() with a custom storage returning null keeps a new, empty room', async () => {
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    expect(storage.loads).toBe(1);
    expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });

  it('[API] load() rejects when the storage fails or returns a malformed snapshot', async () => {
    const failing: Storage = {
      load: async () => {
        throw new Error('disk on fire');
      },
      save: async () => {},
    };
    await expect(createRoom({ storage: failing }).load()).rejects.toThrow('disk on fire');
    const malformed: Storage = {
      load: async () => ({ timestamp: -1, state: {}, timestamps: {} }),
      save: async () => {},
    };
    await expect(createRoom({ storage: malformed }).load()).rejects.toBeInstanceOf(SnapshotFormatError);
  });

  it('[API] load() after the room was written rejects and keeps what was written', async () => {
    const room = createRoom({ storage: new RecordingStorage(saved) });
    room.applyServerPatch([{ 'e9/Pos': { _exists: true, x: 9 } }]);
    await expect(room.load()).rejects.toThrow('before the room is first written');
    expect(room.getSnapshot()).toEqual({
      timestamp: 1,
      state: { 'e9/Pos': { _exists: true, x: 9 } },
      timestamps: { 'e9/Pos': { _exists: 1, x: 1 } },
    });
  });

  it('[API] load() without storage resolves and changes nothing', async () => {
    const room = createRoom();
    await room.load();
    expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });

  it('[API] flush() awaits a save of the latest state and skips saving when nothing changed', async () => {
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    await room.flush();
    expect(storage.saved).toEqual([]);
    const a = connect(room);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    await room.flush();
    expect(storage.last.state).toEqual({ k: { _exists: true, x: 1 } });
    const count = storage.saved.length;
    await room.flush();
    expect(storage.saved.length).toBe(count);
  });

  it('[API] close() saves the room; close({ flush: false }) does not', async () => {
    const flushed = new RecordingStorage();
    const room1 = createRoom({ storage: flushed, saveThrottleMs: 60_000 });
    sendPatch(connect(room1), 'm1', [{ k: { _exists: true, x: 1 } }]);
    sendPatch(connect(room1), 'm2', [{ k: { _exists: true, x: 2 } }]);
    await room1.close();
    expect(flushed.last).toEqual({
      timestamp: 2,
      state: { k: { _exists: true, x: 2 } },
      timestamps: { k: { _exists: 2, x: 2 } },
    });

    const unflushed = new RecordingStorage();
    const room2 = createRoom({ storage: unflushed, saveThrottleMs: 60_000 });
    sendPatch(connect(room2), 'm1', [{ k: { _exists: true, x: 1 } }]);
    await room2.close({ flush: false });
    expect(unflushed.saved).toEqual([]);
  });

  it('[API] createStorage is used when no storage is given', async () => {
    const storage = new RecordingStorage(saved);
    const room = createRoom({ createStorage: () => storage });
    await room.load();
    expect(room.getTimestamp()).toBe(5);
  });
});

describe('initialSnapshot', () => {
  it('[API][D10] a room starts from initialSnapshot', () => {
    const room = createRoom({ initialSnapshot: structuredClone(saved) });
    expect(room.getSnapshot()).toEqual({
      timestamp: 5,
      state: { 'e1/Pos': { _exists: true, x: 1 } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 5 } },
    });
    const a = connect(room);
    a.socket.clear();
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 6 }]);
  });

  it('[API] a malformed initialSnapshot is refused with SnapshotFormatError', () => {
    expect(() => createRoom({ initialSnapshot: { timestamp: 1 } as unknown as RoomSnapshot })).toThrow(
      SnapshotFormatError,
    );
  });

  it('[API] initialSnapshot is used when storage holds nothing, and storage wins when it holds a snapshot', async () => {
    const initial: RoomSnapshot = {
      timestamp: 2,
      state: { i: { _exists: true, x: 1 } },
      timestamps: { i: { _exists: 2, x: 2 } },
    };
    const empty = createRoom({ storage: new RecordingStorage(), initialSnapshot: initial });
    await empty.load();
    expect(empty.getSnapshot()).toEqual(initial);
    const full = createRoom({ storage: new RecordingStorage(saved), initialSnapshot: initial });
    await full.load();
    expect(full.getSnapshot().timestamp).toBe(5);
    expect(full.getSnapshot().state.i).toBeUndefined();
  });
});

describe('saveThrottleMs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('[API] saves at most once per saveThrottleMs, with the latest state', async () => {
    vi.useFakeTimers();
    const storage = new RecordingStorage();
    const room = createRoom({ storage, saveThrottleMs: 1_000 });
    await room.load();
    const a = connect(room);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(storage.saved.map((s) => s.timestamp)).toEqual([1]);

    sendPatch(a, 'm2', [{ k: { _exists: true, x: 2 } }]);
    sendPatch(a, 'm3', [{ k: { _exists: true, x: 3 } }]);
    await vi.advanceTimersByTimeAsync(999);
    expect(storage.saved.map((s) => s.timestamp)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(storage.saved.map((s) => s.timestamp)).toEqual([1, 3]);
    expect(storage.last.state).toEqual({ k: { _exists: true, x: 3 } });

    await vi.advanceTimersByTimeAsync(10_000);
    expect(storage.saved).toHaveLength(2);
    await room.close();
  });

  it('[API] the default throttle is 10 s', async () => {
    vi.useFakeTimers();
    const storage = new RecordingStorage();
    const room = createRoom({ storage });
    await room.load();
    const a = connect(room);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    await vi.advanceTimersByTimeAsync(0);
    sendPatch(a, 'm2', [{ k: { _exists: true, x: 2 } }]);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(storage.saved).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(storage.saved.map((s) => s.timestamp)).toEqual([1, 2]);
    await room.close();
  });

  it('[API] flush() saves right away without waiting for the throttle', async () => {
    vi.useFakeTimers();
    const storage = new RecordingStorage();
    const room = createRoom({ storage, saveThrottleMs: 60_000 });
    const a = connect(room);
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    await vi.advanceTimersByTimeAsync(0);
    sendPatch(a, 'm2', [{ k: { _exists: true, x: 2 } }]);
    await room.flush();
    expect(storage.saved.map((s) => s.timestamp)).toEqual([1, 2]);
    await room.close();
  });

  it('[API] a negative saveThrottleMs is refused', () => {
    expect(() => createRoom({ saveThrottleMs: -1 })).toThrow(RangeError);
  });
});

describe('change callbacks', () => {
  it('[API] onDataChange fires once per applied document write, not for ephemeral or readonly frames', () => {
    const calls: unknown[] = [];
    const room = createRoom({ onDataChange: (r) => calls.push(r.getTimestamp()) });
    const a = connect(room);
    const reader = connect(room, { permissions: 'readonly' });
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }, { j: { _exists: true, x: 1 } }]);
    sendPatch(a, 'm2', undefined, [{ 'cursor/a': { _exists: true, x: 1 } }]);
    sendPatch(reader, 'r1', [{ k: { _exists: true, x: 9 } }]);
    sendReconnect(a, 1, { documentPatches: [{ k: { _exists: true, x: 2 } }] });
    room.applyServerPatch([{ s: { _exists: true, x: 1 } }]);
    expect(calls).toEqual([1, 2, 3]);
  });

  it('[API] onDocumentPatch receives the room and the document patches of every applied write', () => {
    const calls: unknown[] = [];
    const room = createRoom({
      onDocumentPatch: (r, patches) => calls.push([r === room, structuredClone(patches)]),
    });
    const a = connect(room);
    sendPatch(
      a,
      'm1',
      [{ k: { _exists: true, x: 1 } }, { j: { _exists: false } }],
      [{ 'cursor/a': { _exists: true, x: 1 } }],
    );
    sendPatch(a, 'm2', undefined, [{ 'cursor/a': { _exists: true, x: 2 } }]);
    room.applyServerPatch([{ s: { _exists: true, y: 1 } }]);
    expect(calls).toEqual([
      [true, [{ k: { _exists: true, x: 1 } }, { j: { _exists: false } }]],
      [true, [{ s: { _exists: true, y: 1 } }]],
    ]);
  });

  it('[API] a throwing onDataChange does not stop the ack or the broadcast', () => {
    const room = createRoom({
      onDataChange: () => {
        throw new Error('boom');
      },
    });
    const a = connect(room);
    const b = connect(room);
    a.socket.clear();
    b.socket.clear();
    sendPatch(a, 'm1', [{ k: { _exists: true, x: 1 } }]);
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 1 }]);
    expect(b.socket.ofType('patch')).toHaveLength(1);
  });
});
