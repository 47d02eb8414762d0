import { describe, expect, it } from 'vitest';
import { Room, type RoomSnapshot, type Storage, silentLogger } from '../../src/index.js';
import { connect } from '../helpers/room-harness.js';
import { describeStorageContract } from './contract.js';
import { turns, waitFor, write } from './contract-helpers.js';

/** A user's own seed-interface storage (SPEC P1): JSON text per room in a Map standing for a disk. */
class JsonMapStorage implements Storage {
  constructor(
    private readonly disk: Map<string, string>,
    private readonly roomId: string,
  ) {}

  async load(): Promise<RoomSnapshot | null> {
    const text = this.disk.get(this.roomId);
    return text === undefined ? null : (JSON.parse(text) as RoomSnapshot);
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    this.disk.set(this.roomId, JSON.stringify(snapshot));
  }
}

describeStorageContract(
  'user-defined load/save storage',
  () => {
    const disk = new Map<string, string>();
    return {
      storageFor: (roomId) => new JsonMapStorage(disk, roomId),
      restart: async () => {},
      corrupt: async (roomId) => {
        disk.set(roomId, '{"timestamp": 3, "state": {');
      },
      cleanup: async () => disk.clear(),
    };
  },
  { durable: false },
);

describe('user-defined load/save storage: throttled saves', () => {
  it('[P1] a load/save storage is saved whole, throttled by saveThrottleMs; close saves the latest', async () => {
    const disk = new Map<string, string>();
    const saved: RoomSnapshot[] = [];
    const inner = new JsonMapStorage(disk, 'throttled');
    const storage: Storage = {
      load: () => inner.load(),
      save: async (snapshot) => {
        saved.push(structuredClone(snapshot));
        await inner.save(snapshot);
      },
    };
    const room = new Room({ storage, logger: silentLogger, saveThrottleMs: 600_000 });
    await room.load();
    const a = connect(room);
    write(a, { gone: { _exists: true, v: 0 } });
    await waitFor(() => saved.length === 1, 'the first save');
    for (let i = 0; i < 30; i++) {
      write(a, { [`k${i % 4}`]: { _exists: true, i } });
      if (i === 10) write(a, { gone: { _exists: false } });
      await turns(1);
    }
    // Thirty writes within the throttle window caused no further save.
    expect(saved).toHaveLength(1);
    await room.close();
    expect(saved).toHaveLength(2);
    const last = saved[1];
    expect(last?.timestamp).toBe(32);
    expect(last?.state.gone).toEqual({ _exists: false });
    expect(last?.state.k1).toEqual({ _exists: true, i: 29 });
    const again = new Room({ storage: new JsonMapStorage(disk, 'throttled'), logger: silentLogger });
    await again.load();
    expect(again.getSnapshot()).toEqual(room.getSnapshot());
  });
});
