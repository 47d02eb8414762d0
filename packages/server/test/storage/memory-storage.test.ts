import { describe, expect, it } from 'vitest';
import { MemoryStorage, PROTOCOL_VERSION, type RoomSnapshot, silentLogger } from '../../src/index.js';
import { connect, createRoom } from '../helpers/room-harness.js';

const WITH_TOMBSTONE: RoomSnapshot = {
  timestamp: 5,
  state: {
    'e1/Shape': { _exists: true, kind: 'rect', points: [1, 2, 3] },
    'e2/Shape': { _exists: false },
    'SINGLETON/Camera': { zoom: 2, nested: { a: [{ b: 1 }] } },
  },
  timestamps: {
    'e1/Shape': { _exists: 1, kind: 4, points: 5 },
    'e2/Shape': { _exists: 3 },
    'SINGLETON/Camera': { zoom: 2, nested: 2 },
  },
};

describe('MemoryStorage (P1)', () => {
  it('[P1] load returns null before anything was saved', async () => {
    expect(await new MemoryStorage().load()).toBeNull();
  });

  it('[P1][D9] round-trips a snapshot with tombstones', async () => {
    const storage = new MemoryStorage();
    await storage.save(WITH_TOMBSTONE);
    expect(await storage.load()).toEqual(WITH_TOMBSTONE);
  });

  it('[P1] the last save wins', async () => {
    const storage = new MemoryStorage();
    await storage.save(WITH_TOMBSTONE);
    const next: RoomSnapshot = { timestamp: 6, state: {}, timestamps: {} };
    await storage.save(next);
    expect(await storage.load()).toEqual(next);
  });

  it('[P1] changing a snapshot after saving it, or a loaded copy, does not change what is stored', async () => {
    const storage = new MemoryStorage();
    const snapshot = structuredClone(WITH_TOMBSTONE);
    await storage.save(snapshot);
    (snapshot.state['e1/Shape'] as { kind: string }).kind = 'mutated';
    snapshot.timestamp = 99;
    const loaded = await storage.load();
    expect(loaded).toEqual(WITH_TOMBSTONE);
    if (loaded) {
      (loaded.state['SINGLETON/Camera'] as { zoom: number }).zoom = -1;
      loaded.state['new/Key'] = { _exists: true, x: 1 };
    }
    expect(await storage.load()).toEqual(WITH_TOMBSTONE);
  });

  it('[P1][D9] a room persists its tombstones through MemoryStorage and a new room restores them', async () => {
    const storage = new MemoryStorage();
    const room = createRoom({ storage, logger: silentLogger });
    const client = connect(room);
    client.send({
      type: 'patch',
      messageId: 'm1',
      documentPatches: [{ 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 1 } }],
    });
    client.send({ type: 'patch', messageId: 'm2', documentPatches: [{ 'e/B': { _exists: false } }] });
    await room.close();
    expect(await storage.load()).toEqual({
      timestamp: 2,
      state: { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: false } },
      timestamps: { 'e/A': { _exists: 1, v: 1 }, 'e/B': { _exists: 2 } },
    });
    const restored = createRoom({ storage });
    await restored.load();
    const again = connect(restored);
    again.socket.clear();
    again.send({ type: 'reconnect', lastTimestamp: 1, protocolVersion: PROTOCOL_VERSION });
    expect(again.socket.messages).toEqual([
      { type: 'patch', clientId: '', documentPatches: [{ 'e/B': { _exists: false } }], timestamp: 2 },
      { type: 'synced', timestamp: 2 },
    ]);
    await restored.close();
  });
});
