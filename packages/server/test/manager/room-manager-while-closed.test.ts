/**
 * RoomManager.whileClosed (SPEC H4 imports into a live server): the room is
 * closed and stored, the work runs on its storage while no one can open it,
 * and a room opened meanwhile waits and then loads what the work wrote.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, type Room } from '../../src/index.js';
import { newManager } from '../helpers/managers.js';
import { connect } from '../helpers/room-harness.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('RoomManager.whileClosed', () => {
  it('[H4] closes the room, holds openings until the work is done, then they load its result', async () => {
    const storage = new MemoryStorage();
    const manager = newManager({ createStorage: () => storage });
    const room = await manager.getRoom('r');
    const client = connect(room);
    room.applyServerPatch([{ 'a/Shape': { x: 1 } }]);
    const release = deferred();
    const started = deferred();
    const work = manager.whileClosed('r', async () => {
      started.resolve();
      // The room was closed and stored before the work ran.
      expect(room.isClosed).toBe(true);
      expect((await storage.load())?.timestamp).toBe(1);
      await release.promise;
      await storage.save({ timestamp: 7, state: { 'b/Shape': { _exists: true, y: 2 } }, timestamps: {} });
      return 'done';
    });
    await started.promise;
    expect(client.socket.closed?.code).toBe(1001);
    let opened: Room | undefined;
    const opening = manager.getRoom('r').then((reopened) => {
      opened = reopened;
      return reopened;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(opened, 'the room opened while held').toBeUndefined();
    release.resolve();
    expect(await work).toBe('done');
    const reopened = await opening;
    expect(reopened).not.toBe(room);
    expect(reopened.getTimestamp()).toBe(7);
    expect(reopened.getSnapshot().state).toEqual({ 'b/Shape': { _exists: true, y: 2 } });
  });

  it('[H4] a failing work releases the hold and the room opens again', async () => {
    const manager = newManager({ createStorage: () => new MemoryStorage() });
    await expect(
      manager.whileClosed('r', async () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await manager.getRoom('r')).isClosed).toBe(false);
  });

  it('[H4] holds of one room run one after another', async () => {
    const manager = newManager({ createStorage: () => new MemoryStorage() });
    const order: string[] = [];
    const first = deferred();
    const a = manager.whileClosed('r', async () => {
      order.push('a-start');
      await first.promise;
      order.push('a-end');
    });
    const b = manager.whileClosed('r', async () => {
      order.push('b');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    first.resolve();
    await Promise.all([a, b]);
    expect(order).toEqual(['a-start', 'a-end', 'b']);
  });
});
