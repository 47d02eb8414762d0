/**
 * RoomManager.dropRoom for a room this process may no longer write (cluster
 * mode, SPEC K2): an instance still loading must never be served, and a room
 * whose final save keeps failing must not keep the room from opening again.
 */
import { describe, expect, it } from 'vitest';
import { RoomDroppedError, type RoomSnapshot } from '../../src/index.js';
import { ControllableStorage, settle } from '../helpers/controllable-storage.js';
import { newManager } from '../helpers/managers.js';
import { connect } from '../helpers/room-harness.js';

const BEFORE: RoomSnapshot = {
  timestamp: 1,
  state: { 'e/A': { _exists: true, v: 'old' } },
  timestamps: { 'e/A': { _exists: 1, v: 1 } },
};
const AFTER: RoomSnapshot = {
  timestamp: 2,
  state: { 'e/A': { _exists: true, v: 'new' } },
  timestamps: { 'e/A': { _exists: 1, v: 2 } },
};

describe('RoomManager.dropRoom (SPEC K2)', () => {
  it('[K2] a room dropped while it loads is never served: its opening fails with the code, the next opening loads afresh', async () => {
    const storage = new ControllableStorage(BEFORE);
    const manager = newManager({ createStorage: () => storage });
    const release = storage.holdLoads();
    const first = manager.getRoom('r');
    await settle();
    expect(manager.hasRoom('r')).toBe(true);
    manager.dropRoom('r', 1012, 'lease lost');
    const second = manager.getRoom('r');
    // Meanwhile another process wrote the room.
    storage.stored = structuredClone(AFTER);
    release();
    const error = await first.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RoomDroppedError);
    expect((error as RoomDroppedError).code).toBe(1012);
    const room = await second;
    expect(room.getSnapshot().state).toEqual(AFTER.state);
    expect(manager.getExistingRoom('r')).toBe(room);
    expect(storage.loadCalls).toBe(2);
  });

  it('[K2] dropping a room whose final save fails stops the retries and lets it open again at once', async () => {
    const storage = new ControllableStorage(BEFORE);
    const manager = newManager({ createStorage: () => storage });
    const room = await manager.getOrCreateRoom('r', { saveThrottleMs: 3_600_000 });
    // Every save fails from the start: a first save of the write that started (and could
    // finish) before the test set the error would leave nothing unsaved to close with.
    storage.saveError = new Error('fenced');
    connect(room).send({ type: 'patch', messageId: 'm', documentPatches: [{ 'e/B': { _exists: true } }] });
    await settle();
    await expect(manager.closeRoom('r')).rejects.toThrow('fenced');
    expect(manager.getUnpersistedRoomIds()).toEqual(['r']);
    manager.dropRoom('r', 1012, 'lease lost');
    expect(manager.getUnpersistedRoomIds()).toEqual([]);
    expect(manager.hasRoom('r')).toBe(false);
    const saves = storage.saved.length;
    const reopened = await manager.getRoom('r');
    // Loaded from storage, without the write that was never stored (nor acked).
    expect(reopened.getSnapshot().state).toEqual(BEFORE.state);
    // The abandoned room's background save does not try again: its first retry
    // timer (500 ms) was set before this one, so it has fired by the time this one does.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(storage.saved.length).toBe(saves);
  });
});
