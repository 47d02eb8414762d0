import { afterAll, describe, expect, it } from 'vitest';
import { FencedError, PostgresStorage, type RoomFence } from '../../src/index.js';
import {
  dropStorageTables,
  HOW_TO_RUN_POSTGRES,
  IN_CI,
  postgresProblem,
  TEST_PG_URL,
} from '../helpers/postgres.js';

const unreachable = await postgresProblem();
const prefix = `fence_${process.pid}_${Math.random().toString(36).slice(2, 8)}_`;
const storages: PostgresStorage[] = [];

function open(): PostgresStorage {
  const storage = new PostgresStorage({ connectionString: TEST_PG_URL, tablePrefix: prefix });
  storages.push(storage);
  return storage;
}

interface TestFence extends RoomFence {
  held: boolean;
  claimedEpoch?: number;
  fencedBy?: number;
}

function fence(leaseEpoch: number): TestFence {
  const state: TestFence = {
    leaseEpoch,
    held: true,
    assertHeld() {
      if (!state.held) throw new FencedError('room', 'lease lost');
    },
    claimed(epoch) {
      state.claimedEpoch = epoch;
    },
    fenced(stored) {
      state.fencedBy = stored;
    },
  };
  return state;
}

const component = (key: string, value: number) => ({ key, data: { value }, stamps: { value: value } });

afterAll(async () => {
  await Promise.all(storages.map((s) => s.close()));
  if (unreachable === null) await dropStorageTables(prefix);
});

describe.skipIf(unreachable !== null && !IN_CI)('PostgreSQL epoch fencing', () => {
  if (unreachable !== null) console.warn(`Skipping fencing tests: ${HOW_TO_RUN_POSTGRES} (${unreachable})`);

  it('[K2] a commit from an epoch older than the room latest is refused and stores nothing', async () => {
    const oldOwner = open();
    const newOwner = open();
    const oldFence = fence(1);
    const oldRoom = oldOwner.forRoom('r1', oldFence);
    expect(await oldRoom.load()).toBeNull();
    await oldRoom.commit({ timestamp: 1, components: [component('a', 1)] });

    const newFence = fence(1);
    const newRoom = newOwner.forRoom('r1', newFence);
    const loaded = await newRoom.loadComponents?.();
    expect(loaded?.timestamp).toBe(1);
    // The new owner's claim is above the old owner's epoch even though its lease proposed the same.
    expect(newFence.claimedEpoch).toBeGreaterThan(oldFence.claimedEpoch ?? Number.POSITIVE_INFINITY);

    await expect(oldRoom.commit({ timestamp: 2, components: [component('a', 2)] })).rejects.toThrow(
      FencedError,
    );
    expect(oldFence.fencedBy).toBe(newFence.claimedEpoch);
    await expect(oldRoom.save({ timestamp: 2, state: {}, timestamps: {} })).rejects.toThrow(FencedError);

    await newRoom.commit({ timestamp: 2, components: [component('b', 2)] });
    const after = await open().forRoom('r1').loadComponents?.();
    expect(after?.timestamp).toBe(2);
    expect(after?.components.map((c) => [c.key, c.data])).toEqual(
      expect.arrayContaining([
        ['a', { value: 1 }],
        ['b', { value: 2 }],
      ]),
    );
    expect(after?.components).toHaveLength(2);
  });

  it('[K2] a claimed epoch is at least the lease epoch and only grows', async () => {
    const storage = open();
    const first = await storage.claimEpoch('r2', 10);
    expect(first).toBe(10);
    expect(await storage.claimEpoch('r2', 3)).toBe(11);
    expect(await storage.claimEpoch('r2', 40)).toBe(40);
    expect(await storage.storedEpoch('r2')).toBe(40);
  });

  it('[K2] a lease that may have ended stops the commit before it reaches the database', async () => {
    const storage = open();
    const f = fence(1);
    const room = storage.forRoom('r3', f);
    await room.load();
    f.held = false;
    await expect(room.commit({ timestamp: 1, components: [component('x', 1)] })).rejects.toThrow(
      'lease lost',
    );
    expect(await open().forRoom('r3').load()).toBeNull();
  });

  it('[K2] concurrent commits of the old owner and a claim never both win', async () => {
    const oldOwner = open();
    const f = fence(1);
    const room = oldOwner.forRoom('r4', f);
    await room.load();
    const commits = Array.from({ length: 20 }, (_, i) =>
      room.commit({ timestamp: i + 1, components: [component(`k${i}`, i)] }).then(
        () => i + 1,
        () => 0,
      ),
    );
    const claimer = open().forRoom('r4', fence(1));
    const loaded = await claimer.loadComponents?.();
    const results = await Promise.all(commits);
    // Every commit the old owner saw succeed happened before the claim, so the new owner loaded it.
    const acked = results.filter((clock) => clock > 0);
    const loadedKeys = new Set(loaded?.components.map((c) => c.key));
    for (const clock of acked) expect(loadedKeys.has(`k${clock - 1}`)).toBe(true);
  });
});
