import { describe, expect, it, vi } from 'vitest';
import {
  MemoryStorage,
  PROTOCOL_VERSION,
  type Room,
  RoomLoadError,
  type RoomSnapshot,
  type Storage,
} from '../../src/index.js';
import { ControllableStorage, settle } from '../helpers/controllable-storage.js';
import { newManager } from '../helpers/managers.js';
import { connect } from '../helpers/room-harness.js';

function write(room: Room, patch: Record<string, Record<string, unknown>>): void {
  connect(room).send({ type: 'patch', messageId: 'm', documentPatches: [patch] });
}

/** One storage per room id, kept across manager instances (a "disk"). */
function storagesByRoom<S extends Storage>(
  make: () => S,
): { map: Map<string, S>; factory: (id: string) => S } {
  const map = new Map<string, S>();
  return {
    map,
    factory: (id) => {
      let storage = map.get(id);
      if (!storage) {
        storage = make();
        map.set(id, storage);
      }
      return storage;
    },
  };
}

describe('RoomManager: closing persists (S3, P5)', () => {
  it('[S3] closeRoom saves a snapshot holding the writes, tombstones included', async () => {
    const storage = new ControllableStorage();
    const manager = newManager({ createStorage: () => storage });
    const room = await manager.getOrCreateRoom('r1', { saveThrottleMs: 3_600_000 });
    write(room, { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 1 } });
    await settle();
    const savesBefore = storage.saved.length;
    write(room, { 'e/B': { _exists: false } });
    await manager.closeRoom('r1');
    expect(storage.saved.length).toBe(savesBefore + 1);
    expect(storage.saved.at(-1)).toEqual({
      timestamp: 2,
      state: { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: false } },
      timestamps: { 'e/A': { _exists: 1, v: 1 }, 'e/B': { _exists: 2 } },
    });
  });

  it('[P5][9] closeAll resolves only after every room is persisted', async () => {
    const disk = storagesByRoom(() => new ControllableStorage());
    const manager = newManager({ createStorage: disk.factory });
    const a = await manager.getRoom('a');
    const b = await manager.getRoom('b');
    const holdA = disk.map.get('a')?.holdSaves();
    write(a, { 'e/A': { _exists: true, v: 1 } });
    write(b, { 'e/B': { _exists: true, v: 2 } });
    let resolved = false;
    const closing = manager.closeAll().then(() => {
      resolved = true;
    });
    await settle();
    await settle();
    expect(resolved).toBe(false);
    expect(disk.map.get('a')?.stored).toBeNull();
    expect(disk.map.get('b')?.stored?.state).toEqual({ 'e/B': { _exists: true, v: 2 } });
    holdA?.();
    await closing;
    expect(resolved).toBe(true);
    expect(disk.map.get('a')?.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
    expect(manager.getRoomIds()).toEqual([]);
    expect(a.isClosed && b.isClosed).toBe(true);
  });

  it('[P5] closeAll waits for a room closed earlier whose save is still running', async () => {
    const storage = new ControllableStorage();
    const manager = newManager({ createStorage: () => storage });
    const room = await manager.getRoom('r1');
    const release = storage.holdSaves();
    write(room, { 'e/A': { _exists: true, v: 1 } });
    void manager.closeRoom('r1');
    let resolved = false;
    const closing = manager.closeAll().then(() => {
      resolved = true;
    });
    await settle();
    expect(resolved).toBe(false);
    release();
    await closing;
    expect(storage.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
  });

  it('[P5] closeAll waits for rooms still loading, then persists them', async () => {
    const storage = new ControllableStorage();
    const release = storage.holdLoads();
    const manager = newManager({ createStorage: () => storage });
    const opening = manager.getRoom('r1');
    let resolved = false;
    const closing = manager.closeAll().then(() => {
      resolved = true;
    });
    await settle();
    expect(resolved).toBe(false);
    release();
    const room = await opening;
    await closing;
    expect(room.isClosed).toBe(true);
    expect(manager.getRoomIds()).toEqual([]);
  });

  it('[P5][P4] closeAll rejects with an AggregateError when a save fails, and still closes the others', async () => {
    const disk = storagesByRoom(() => new ControllableStorage());
    const manager = newManager({ createStorage: disk.factory });
    const a = await manager.getRoom('a');
    const b = await manager.getRoom('b');
    const c = await manager.getRoom('c');
    const failure = new Error('disk full');
    const storageB = disk.map.get('b');
    if (storageB) storageB.saveError = failure;
    write(a, { 'e/A': { _exists: true, v: 1 } });
    write(b, { 'e/B': { _exists: true, v: 1 } });
    write(c, { 'e/C': { _exists: true, v: 1 } });
    const error = await manager.closeAll().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toContain(failure);
    expect(disk.map.get('a')?.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
    expect(disk.map.get('c')?.stored?.state).toEqual({ 'e/C': { _exists: true, v: 1 } });
    expect([a.isClosed, b.isClosed, c.isClosed]).toEqual([true, true, true]);
    expect(manager.getRoomIds()).toEqual([]);
  });

  it('[P5] the AggregateError of closeAll names each failed room once', async () => {
    const disk = storagesByRoom(() => new ControllableStorage());
    const manager = newManager({ createStorage: disk.factory });
    const a = await manager.getRoom('a');
    await manager.getRoom('b');
    const failure = new Error('disk full');
    const storageA = disk.map.get('a');
    if (storageA) storageA.saveError = failure;
    write(a, { 'e/A': { _exists: true, v: 1 } });
    const error = await manager.closeAll().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([failure]);
    expect((error as AggregateError).message).toMatch(/^1 room/);
  });

  it('[P5] getUnpersistedRoomIds names closed rooms until their data is stored', async () => {
    const held = new ControllableStorage();
    const quick = new ControllableStorage();
    const manager = newManager({ createStorage: (id) => (id === 'held' ? held : quick) });
    write(await manager.getRoom('held'), { 'e/A': { _exists: true, v: 1 } });
    write(await manager.getRoom('quick'), { 'e/B': { _exists: true, v: 1 } });
    expect(manager.getUnpersistedRoomIds()).toEqual([]);
    const release = held.holdSaves();
    const closing = manager.closeAll();
    await settle();
    // What a shutdown that cannot wait any longer reports as not stored.
    expect(manager.getUnpersistedRoomIds()).toEqual(['held']);
    release();
    await closing;
    await settle();
    expect(manager.getUnpersistedRoomIds()).toEqual([]);
    expect(held.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
  });

  it('[9] closeAll returns a promise that resolves when nothing is open', async () => {
    const manager = newManager();
    const result = manager.closeAll();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBeUndefined();
  });
});

describe('RoomManager: load failures (P3)', () => {
  it('[P3] a load that throws keeps the room closed and rejects with RoomLoadError carrying the cause', async () => {
    const storage = new ControllableStorage();
    const cause = new Error('connection refused');
    storage.loadError = cause;
    const manager = newManager({ createStorage: () => storage });
    const error = await manager.getRoom('r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomLoadError);
    expect((error as RoomLoadError).cause).toBe(cause);
    expect((error as RoomLoadError).roomId).toBe('r1');
    expect((error as RoomLoadError).message).toContain('connection refused');
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    expect(manager.getRoomIds()).toEqual([]);
    await manager.closeAll();
    expect(storage.saved).toEqual([]);
  });

  it('[P3] concurrent getRoom calls on a failing load all reject', async () => {
    const storage = new ControllableStorage();
    const release = storage.holdLoads();
    storage.loadError = new Error('boom');
    const manager = newManager({ createStorage: () => storage });
    const calls = [manager.getRoom('r1'), manager.getRoom('r1')];
    release();
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RoomLoadError);
    }
    expect(storage.loadCalls).toBe(1);
  });

  it('[P3] a later getRoom retries the load and opens the stored data', async () => {
    const saved: RoomSnapshot = {
      timestamp: 4,
      state: { 'e/A': { _exists: true, v: 4 } },
      timestamps: { 'e/A': { _exists: 4, v: 4 } },
    };
    const storage = new ControllableStorage(saved);
    storage.loadError = new Error('flaky');
    const manager = newManager({ createStorage: () => storage });
    await expect(manager.getRoom('r1')).rejects.toBeInstanceOf(RoomLoadError);
    storage.loadError = undefined;
    const room = await manager.getRoom('r1');
    expect(storage.loadCalls).toBe(2);
    expect(room.getSnapshot()).toEqual(saved);
    expect(manager.getExistingRoom('r1')).toBe(room);
  });
});

describe('RoomManager: storage precedence (section 9)', () => {
  it('[9][P1] RoomOptions.storage wins over RoomOptions.createStorage and the manager factory', async () => {
    const managerFactory = vi.fn(() => new ControllableStorage());
    const manager = newManager({ createStorage: managerFactory });
    const own = new ControllableStorage();
    const roomFactory = vi.fn(() => new ControllableStorage());
    const room = await manager.getOrCreateRoom('r1', { storage: own, createStorage: roomFactory });
    write(room, { 'e/A': { _exists: true, v: 1 } });
    await manager.closeRoom('r1');
    expect(own.loadCalls).toBe(1);
    expect(own.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
    expect(roomFactory).not.toHaveBeenCalled();
    expect(managerFactory).not.toHaveBeenCalled();
  });

  it('[9][P1] RoomOptions.createStorage (published 2.x form) wins over the manager factory', async () => {
    const managerFactory = vi.fn(() => new ControllableStorage());
    const manager = newManager({ createStorage: managerFactory });
    const own = new ControllableStorage();
    const roomFactory = vi.fn(() => own);
    const room = await manager.getOrCreateRoom('r1', { createStorage: roomFactory });
    write(room, { 'e/A': { _exists: true, v: 1 } });
    await manager.closeRoom('r1');
    expect(roomFactory).toHaveBeenCalledTimes(1);
    expect(own.loadCalls).toBe(1);
    expect(own.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
    expect(managerFactory).not.toHaveBeenCalled();
  });

  it('[9][P1] without room-level storage the manager createStorage(roomId) (seed form) is used', async () => {
    const disk = storagesByRoom(() => new ControllableStorage());
    const factory = vi.fn(disk.factory);
    const manager = newManager({ createStorage: factory });
    const room = await manager.getOrCreateRoom('r1', { saveThrottleMs: 10 });
    write(room, { 'e/A': { _exists: true, v: 1 } });
    await manager.closeRoom('r1');
    expect(factory).toHaveBeenCalledWith('r1');
    expect(disk.map.get('r1')?.loadCalls).toBe(1);
    expect(disk.map.get('r1')?.stored?.state).toEqual({ 'e/A': { _exists: true, v: 1 } });
  });
});

describe('RoomManager: reopening (S3, D9)', () => {
  it('[S3][D9] a room reopened after close loads what was saved (MemoryStorage via a factory closure)', async () => {
    const disk = storagesByRoom(() => new MemoryStorage());
    const manager = newManager({ createStorage: disk.factory });
    const room = await manager.getRoom('r1');
    write(room, { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 1 } });
    write(room, { 'e/B': { _exists: false } });
    const before = room.getSnapshot();
    await manager.closeRoom('r1');
    const reopened = await manager.getRoom('r1');
    expect(reopened).not.toBe(room);
    expect(reopened.getSnapshot()).toEqual(before);
    expect(reopened.getSnapshot()).toEqual({
      timestamp: 2,
      state: { 'e/A': { _exists: true, v: 1 } },
      timestamps: { 'e/A': { _exists: 1, v: 1 } },
    });
    // The tombstone came back too: a client that last saw clock 1 learns of the deletion.
    const client = connect(reopened);
    client.socket.clear();
    client.send({ type: 'reconnect', lastTimestamp: 1, protocolVersion: PROTOCOL_VERSION });
    expect(client.socket.ofType('patch')).toEqual([
      { type: 'patch', clientId: '', documentPatches: [{ 'e/B': { _exists: false } }], timestamp: 2 },
    ]);
  });

  it('[S3][P3] reopening a room whose close is still saving loads after that save', async () => {
    const storage = new ControllableStorage();
    const manager = newManager({ createStorage: () => storage });
    const room = await manager.getRoom('r1');
    const release = storage.holdSaves();
    write(room, { 'e/A': { _exists: true, v: 1 } });
    const closing = manager.closeRoom('r1');
    const reopening = manager.getRoom('r1');
    await settle();
    expect(storage.loadCalls).toBe(1);
    release();
    await closing;
    const reopened = await reopening;
    expect(storage.loadCalls).toBe(2);
    expect(reopened.getSnapshot().state).toEqual({ 'e/A': { _exists: true, v: 1 } });
  });

  it('[S3][D9] a fresh manager over the same storages sees the data (server restart)', async () => {
    const disk = storagesByRoom(() => new MemoryStorage());
    const first = newManager({ createStorage: disk.factory });
    write(await first.getRoom('r1'), { 'e/A': { _exists: true, v: 1 } });
    write(await first.getRoom('r2'), { 'e/B': { _exists: true, v: 2 } });
    await first.closeAll();
    const second = newManager({ createStorage: disk.factory });
    expect((await second.getRoom('r1')).getSnapshot().state).toEqual({ 'e/A': { _exists: true, v: 1 } });
    expect((await second.getRoom('r2')).getSnapshot().state).toEqual({ 'e/B': { _exists: true, v: 2 } });
  });
});
