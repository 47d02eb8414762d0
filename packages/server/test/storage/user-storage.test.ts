import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FileStorage,
  PROTOCOL_VERSION,
  type Room,
  RoomManager,
  type RoomSnapshot,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { connect } from '../helpers/room-harness.js';

const managers: RoomManager[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.closeAll()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A user's own storage as the seed documents it: a plain object with only load and save, JSON on a "disk". */
function userStorageFactory(disk: Map<string, string>): (roomId: string) => Storage {
  return (roomId) => ({
    async load() {
      const text = disk.get(roomId);
      return text === undefined ? null : (JSON.parse(text) as RoomSnapshot);
    },
    async save(snapshot) {
      disk.set(roomId, JSON.stringify(snapshot));
    },
  });
}

/** A server process: a fresh manager over the same storage factory. */
function startServer(createStorage: (roomId: string) => Storage): RoomManager {
  const manager = new RoomManager({ logger: silentLogger, createStorage });
  managers.push(manager);
  return manager;
}

function write(room: Room, patch: Record<string, Record<string, unknown>>): void {
  connect(room).send({ type: 'patch', messageId: 'w', documentPatches: [patch] });
}

/** What a client that last saw `lastTimestamp` is told by its reconnect reply. */
function reconnectReply(room: Room, lastTimestamp: number): unknown[] {
  const client = connect(room, { clientId: 'returning' });
  client.socket.clear();
  client.send({ type: 'reconnect', lastTimestamp, protocolVersion: PROTOCOL_VERSION });
  return client.socket.messages.filter((m) => m.type === 'patch' || m.type === 'synced');
}

describe("a user's own load/save storage (P1, D9)", () => {
  it('[P1] a storage with only load and save loads and saves rooms', async () => {
    const disk = new Map<string, string>();
    const first = startServer(userStorageFactory(disk));
    write(await first.getRoom('r1'), { 'e/A': { _exists: true, v: 1 } });
    await first.closeAll();
    expect(JSON.parse(disk.get('r1') ?? 'null')).toEqual({
      timestamp: 1,
      state: { 'e/A': { _exists: true, v: 1 } },
      timestamps: { 'e/A': { _exists: 1, v: 1 } },
    });
    const second = startServer(userStorageFactory(disk));
    const room = await second.getRoom('r1');
    expect(room.getSnapshot()).toEqual({
      timestamp: 1,
      state: { 'e/A': { _exists: true, v: 1 } },
      timestamps: { 'e/A': { _exists: 1, v: 1 } },
    });
  });

  it('[D9][P1] a deletion survives close + reopen: an old lastTimestamp receives { _exists: false }', async () => {
    const disk = new Map<string, string>();
    const manager = startServer(userStorageFactory(disk));
    const room = await manager.getRoom('r1');
    write(room, { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 1 } }); // clock 1: the away client saw this
    write(room, { 'e/B': { _exists: false } }); // clock 2: deleted while it was away
    await manager.closeRoom('r1');
    const saved = JSON.parse(disk.get('r1') ?? 'null') as RoomSnapshot;
    expect(saved.state['e/B']).toEqual({ _exists: false });
    expect(saved.timestamps['e/B']).toEqual({ _exists: 2 });

    const reopened = await manager.getRoom('r1');
    expect(reopened).not.toBe(room);
    expect(reconnectReply(reopened, 1)).toEqual([
      { type: 'patch', clientId: '', documentPatches: [{ 'e/B': { _exists: false } }], timestamp: 2 },
      { type: 'synced', timestamp: 2 },
    ]);
  });

  it('[D9][P1] a deletion survives any number of restarts, with and without writes in between', async () => {
    const disk = new Map<string, string>();
    const factory = userStorageFactory(disk);
    let server = startServer(factory);
    let room = await server.getRoom('r1');
    write(room, { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 1 } }); // clock 1
    write(room, { 'e/B': { _exists: false } }); // clock 2
    await server.closeAll();

    // Restart 1: another write, so the reloaded document (tombstone included) is saved again.
    server = startServer(factory);
    room = await server.getRoom('r1');
    write(room, { 'e/C': { _exists: true, z: 3 } }); // clock 3
    await server.closeAll();

    // Restart 2: nothing written.
    server = startServer(factory);
    await server.getRoom('r1');
    await server.closeAll();

    // Restart 3: the same write-then-close cycle again.
    server = startServer(factory);
    room = await server.getRoom('r1');
    write(room, { 'e/A': { _exists: true, v: 4 } }); // clock 4
    await server.closeAll();

    server = startServer(factory);
    room = await server.getRoom('r1');
    expect(reconnectReply(room, 1)).toEqual([
      {
        type: 'patch',
        clientId: '',
        // No key was deleted and re-created after 1, so no leading tombstone (D7).
        documentPatches: [
          { 'e/B': { _exists: false }, 'e/C': { _exists: true, z: 3 }, 'e/A': { _exists: true, v: 4 } },
        ],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
    // A client that saw the deletion is not told about it again.
    expect(reconnectReply(room, 3)).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ 'e/A': { _exists: true, v: 4 } }],
        timestamp: 4,
      },
      { type: 'synced', timestamp: 4 },
    ]);
    expect(room.getSnapshot().state).toEqual({
      'e/A': { _exists: true, v: 4 },
      'e/C': { _exists: true, z: 3 },
    });
  });

  it('[D9][D5] a key deleted then re-created before the restart comes back with only its new fields', async () => {
    const disk = new Map<string, string>();
    const factory = userStorageFactory(disk);
    const first = startServer(factory);
    const room = await first.getRoom('r1');
    write(room, { 'e/A': { _exists: true, old: 1, keep: 1 } });
    write(room, { 'e/A': { _exists: false } });
    write(room, { 'e/A': { _exists: true, fresh: 3 } });
    await first.closeAll();
    const second = startServer(factory);
    const reopened = await second.getRoom('r1');
    expect(reopened.getSnapshot().state).toEqual({ 'e/A': { _exists: true, fresh: 3 } });
    expect(reconnectReply(reopened, 1)).toEqual([
      // Deleted after lastTimestamp and re-created: the client drops what it held under e/A, then
      // takes the new incarnation whole. The user's storage kept the deletion stamp (D7, P1).
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ 'e/A': { _exists: false } }, { 'e/A': { _exists: true, fresh: 3 } }],
        timestamp: 3,
      },
      { type: 'synced', timestamp: 3 },
    ]);
  });

  it('[D9][P1] deletions survive restarts with FileStorage', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-'));
    dirs.push(dir);
    const factory = (roomId: string) => new FileStorage({ dir, roomId });
    let server = startServer(factory);
    let room = await server.getRoom('room/1');
    write(room, { 'e/A': { _exists: true, v: 1 }, 'e/B': { _exists: true, w: 1 } });
    write(room, { 'e/B': { _exists: false } });
    await server.closeAll();
    server = startServer(factory);
    room = await server.getRoom('room/1');
    write(room, { 'e/C': { _exists: true, z: 3 } });
    await server.closeAll();
    server = startServer(factory);
    room = await server.getRoom('room/1');
    expect(reconnectReply(room, 1)).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ 'e/B': { _exists: false }, 'e/C': { _exists: true, z: 3 } }],
        timestamp: 3,
      },
      { type: 'synced', timestamp: 3 },
    ]);
  });
});
