import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CloseCode,
  MemoryStorage,
  Room,
  RoomManager,
  RoomManagerClosedError,
  silentLogger,
  TooManyRoomsError,
} from '../../src/index.js';
import { ControllableStorage, settle } from '../helpers/controllable-storage.js';
import { newManager } from '../helpers/managers.js';
import { connect } from '../helpers/room-harness.js';

describe('RoomManager: opening rooms (section 9)', () => {
  it('[9] getRoom creates a room once and returns the same instance afterwards', async () => {
    const createStorage = vi.fn(() => new MemoryStorage());
    const manager = newManager({ createStorage });
    const room = await manager.getRoom('r1');
    expect(room).toBeInstanceOf(Room);
    expect(room.roomId).toBe('r1');
    expect(await manager.getRoom('r1')).toBe(room);
    expect(createStorage).toHaveBeenCalledTimes(1);
    expect(createStorage).toHaveBeenCalledWith('r1');
  });

  it('[9] getOrCreateRoom and getRoom share the same room', async () => {
    const manager = newManager();
    const room = await manager.getOrCreateRoom('r1', { saveThrottleMs: 5 });
    expect(await manager.getRoom('r1')).toBe(room);
    expect(await manager.getOrCreateRoom('r1')).toBe(room);
    expect(await manager.getOrCreateRoom('r2')).not.toBe(room);
  });

  it('[9] getOrCreateRoom options apply only when the call creates the room', async () => {
    const manager = newManager();
    const first = vi.fn();
    const second = vi.fn();
    const room = await manager.getOrCreateRoom('r1', { onDocumentPatch: first });
    await manager.getOrCreateRoom('r1', { onDocumentPatch: second });
    connect(room).send({
      type: 'patch',
      messageId: 'm',
      documentPatches: [{ 'e/A': { _exists: true, v: 1 } }],
    });
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
  });

  it('[9][P3] concurrent getRoom calls share one load (storage.load called once)', async () => {
    const storage = new ControllableStorage({
      timestamp: 1,
      state: { 'e/A': { _exists: true, v: 1 } },
      timestamps: { 'e/A': { _exists: 1, v: 1 } },
    });
    const release = storage.holdLoads();
    const createStorage = vi.fn(() => storage);
    const manager = newManager({ createStorage });
    const calls = [manager.getRoom('r1'), manager.getRoom('r1'), manager.getOrCreateRoom('r1')];
    await settle();
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    release();
    const rooms = await Promise.all(calls);
    expect(storage.loadCalls).toBe(1);
    expect(createStorage).toHaveBeenCalledTimes(1);
    expect(rooms[1]).toBe(rooms[0]);
    expect(rooms[2]).toBe(rooms[0]);
    expect(rooms[0]?.getTimestamp()).toBe(1);
  });

  it('[9] getExistingRoom returns only rooms that are open', async () => {
    const manager = newManager();
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    const room = await manager.getRoom('r1');
    expect(manager.getExistingRoom('r1')).toBe(room);
    expect(manager.getExistingRoom('r2')).toBeUndefined();
  });

  it('[9] getRoomIds lists the open rooms', async () => {
    const manager = newManager();
    expect(manager.getRoomIds()).toEqual([]);
    await manager.getRoom('a');
    await manager.getRoom('b');
    await manager.getRoom('a');
    expect(manager.getRoomIds().sort()).toEqual(['a', 'b']);
    await manager.closeRoom('a');
    expect(manager.getRoomIds()).toEqual(['b']);
  });

  it('[9] closeRoom closes the room, its sockets (1001) and removes it', async () => {
    const manager = newManager();
    const room = await manager.getRoom('r1');
    const client = connect(room);
    await manager.closeRoom('r1');
    expect(room.isClosed).toBe(true);
    expect(client.socket.closed?.code).toBe(CloseCode.GoingAway);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    expect(manager.getRoomIds()).toEqual([]);
    const reopened = await manager.getRoom('r1');
    expect(reopened).not.toBe(room);
    expect(reopened.isClosed).toBe(false);
  });

  it('[9] closeRoom of an unknown room resolves', async () => {
    const manager = newManager();
    await expect(manager.closeRoom('nope')).resolves.toBeUndefined();
  });

  it('[9][B4] maxRooms: opening one more room fails with TooManyRoomsError', async () => {
    const manager = newManager({ maxRooms: 2 });
    const a = await manager.getRoom('a');
    await manager.getRoom('b');
    const error = await manager.getRoom('c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRoomsError);
    expect((error as TooManyRoomsError).limit).toBe(2);
    expect(manager.getExistingRoom('c')).toBeUndefined();
    // Rooms already open stay reachable.
    expect(await manager.getRoom('a')).toBe(a);
    await manager.closeRoom('b');
    await expect(manager.getRoom('c')).resolves.toBeInstanceOf(Room);
  });

  it('[9][B4] maxRooms counts rooms still loading', async () => {
    const storage = new ControllableStorage();
    const release = storage.holdLoads();
    const manager = newManager({ maxRooms: 1, createStorage: () => storage });
    const loading = manager.getRoom('a');
    await expect(manager.getRoom('b')).rejects.toBeInstanceOf(TooManyRoomsError);
    release();
    await expect(loading).resolves.toBeInstanceOf(Room);
  });

  it('[9] an empty roomId is refused', async () => {
    const manager = newManager();
    await expect(manager.getRoom('')).rejects.toBeInstanceOf(TypeError);
    expect(manager.getRoomIds()).toEqual([]);
  });
});

describe('RoomManager: idle closing (S3)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('[S3] the default idleTimeout is 30000 ms', async () => {
    vi.useFakeTimers();
    const manager = newManager();
    const room = await manager.getRoom('r1');
    const client = connect(room);
    room.handleSocketClose(client.sessionId);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(manager.getExistingRoom('r1')).toBe(room);
    expect(room.isClosed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    expect(room.isClosed).toBe(true);
  });

  it('[S3] a room closes idleTimeout ms after its last session leaves, not while one remains', async () => {
    vi.useFakeTimers();
    const manager = newManager({ idleTimeout: 1_000 });
    const room = await manager.getRoom('r1');
    const a = connect(room);
    const b = connect(room);
    room.handleSocketClose(a.sessionId);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(manager.getExistingRoom('r1')).toBe(room);
    room.handleSocketClose(b.sessionId);
    await vi.advanceTimersByTimeAsync(999);
    expect(manager.getExistingRoom('r1')).toBe(room);
    await vi.advanceTimersByTimeAsync(1);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    expect(room.isClosed).toBe(true);
  });

  it('[S3] a session arriving before the timeout cancels the idle close', async () => {
    vi.useFakeTimers();
    const manager = newManager({ idleTimeout: 1_000 });
    const room = await manager.getRoom('r1');
    const a = connect(room);
    room.handleSocketClose(a.sessionId);
    await vi.advanceTimersByTimeAsync(600);
    const b = connect(room);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(manager.getExistingRoom('r1')).toBe(room);
    expect(room.isClosed).toBe(false);
    // The timer starts over when the newcomer leaves.
    room.handleSocketClose(b.sessionId);
    await vi.advanceTimersByTimeAsync(999);
    expect(manager.getExistingRoom('r1')).toBe(room);
    await vi.advanceTimersByTimeAsync(1);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
  });

  it('[S3] a room opened but never joined closes after idleTimeout', async () => {
    vi.useFakeTimers();
    const manager = newManager({ idleTimeout: 2_000 });
    const room = await manager.getRoom('r1');
    await vi.advanceTimersByTimeAsync(1_999);
    expect(manager.getExistingRoom('r1')).toBe(room);
    await vi.advanceTimersByTimeAsync(1);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
  });

  it('[S3] an idle close persists the room, tombstones included', async () => {
    vi.useFakeTimers();
    const storage = new ControllableStorage();
    const manager = newManager({ idleTimeout: 1_000, createStorage: () => storage });
    const room = await manager.getOrCreateRoom('r1', { saveThrottleMs: 3_600_000 });
    const client = connect(room);
    client.send({
      type: 'patch',
      messageId: 'm1',
      documentPatches: [{ 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 2 } }],
    });
    await vi.advanceTimersByTimeAsync(0);
    client.send({ type: 'patch', messageId: 'm2', documentPatches: [{ 'e/B': { _exists: false } }] });
    await vi.advanceTimersByTimeAsync(0);
    // The throttle holds the deletion back; only the idle close can persist it now.
    expect(storage.stored?.state['e/B']).not.toEqual({ _exists: false });
    room.handleSocketClose(client.sessionId);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    expect(storage.stored).toEqual({
      timestamp: 2,
      state: { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: false } },
      timestamps: { 'e/A': { _exists: 1, v: 1 }, 'e/B': { _exists: 2 } },
    });
  });

  it('[S3][P4] an idle close whose save fails does not lose the acked writes: the save is retried', async () => {
    vi.useFakeTimers();
    const storage = new ControllableStorage();
    storage.saveError = new Error('disk temporarily full');
    const manager = newManager({ idleTimeout: 1_000, createStorage: () => storage });
    const room = await manager.getRoom('r1');
    const client = connect(room);
    client.send({ type: 'patch', messageId: 'm1', documentPatches: [{ 'e/A': { _exists: true, v: 1 } }] });
    expect(client.socket.ofType('ack')).toHaveLength(1);
    room.handleSocketClose(client.sessionId);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(storage.stored).toBeNull();
    // The storage recovers; the write must still reach it and be there when the room reopens.
    storage.saveError = undefined;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(storage.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
    const reopened = await manager.getRoom('r1');
    expect(reopened.getSnapshot().state).toEqual({ 'e/A': { _exists: true, v: 1 } });
  });

  it('[S3] a negative idleTimeout is refused', () => {
    expect(() => new RoomManager({ idleTimeout: -1, logger: silentLogger })).toThrow(RangeError);
  });
});

describe('RoomManager after closeAll (P5)', () => {
  it('[P5] opens no room during or after closeAll, so nothing escapes the final save', async () => {
    const manager = new RoomManager({ logger: silentLogger });
    await manager.getRoom('before');
    const closing = manager.closeAll();
    const during = manager.getRoom('during').catch((error: unknown) => error);
    await closing;
    expect(await during).toBeInstanceOf(RoomManagerClosedError);
    await expect(manager.getRoom('after')).rejects.toBeInstanceOf(RoomManagerClosedError);
    expect(manager.getRoomIds()).toEqual([]);
  });
});
