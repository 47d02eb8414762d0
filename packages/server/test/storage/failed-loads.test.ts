import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FileStorage,
  Room,
  RoomLoadError,
  RoomManager,
  SnapshotFormatError,
  StorageCorruptError,
  silentLogger,
} from '../../src/index.js';
import { ControllableStorage } from '../helpers/controllable-storage.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-'));
  dirs.push(dir);
  return dir;
}

const managers: RoomManager[] = [];
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((m) => m.closeAll()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function fileManager(dir: string): RoomManager {
  const manager = new RoomManager({
    logger: silentLogger,
    createStorage: (roomId) => new FileStorage({ dir, roomId }),
  });
  managers.push(manager);
  return manager;
}

/** Saves a valid snapshot for `roomId`, then replaces the content of its file. */
async function corruptRoomFile(dir: string, roomId: string, content: string): Promise<string> {
  const storage = new FileStorage({ dir, roomId });
  await storage.save({ timestamp: 1, state: { 'e/A': { v: 1 } }, timestamps: { 'e/A': { v: 1 } } });
  const [name] = fs.readdirSync(dir);
  const file = path.join(dir, name as string);
  fs.writeFileSync(file, content);
  return file;
}

describe('a room that cannot be loaded does not open (P3)', () => {
  it('[P3] Room.load rejects with StorageCorruptError for a corrupt FileStorage file', async () => {
    const dir = tempDir();
    await corruptRoomFile(dir, 'r1', '{"timestamp": 3, "state": {');
    const room = new Room({ storage: new FileStorage({ dir, roomId: 'r1' }), logger: silentLogger });
    await expect(room.load()).rejects.toBeInstanceOf(StorageCorruptError);
  });

  it('[P3] RoomManager fails to open a room with a corrupt file (RoomLoadError) and never overwrites it', async () => {
    const dir = tempDir();
    const content = 'garbage \u0000 not json';
    const file = await corruptRoomFile(dir, 'r1', content);
    const manager = fileManager(dir);
    const error = await manager.getRoom('r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomLoadError);
    expect((error as RoomLoadError).cause).toBeInstanceOf(StorageCorruptError);
    expect(manager.getExistingRoom('r1')).toBeUndefined();
    // Still refused on a retry: it never falls back to an empty room.
    await expect(manager.getRoom('r1')).rejects.toBeInstanceOf(RoomLoadError);
    await manager.closeAll();
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    // A new manager (a restart) refuses it too.
    await expect(fileManager(dir).getRoom('r1')).rejects.toBeInstanceOf(RoomLoadError);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
  });

  it('[P3][B5] one corrupt room does not prevent other rooms from opening', async () => {
    const dir = tempDir();
    await corruptRoomFile(dir, 'bad', 'nope');
    const manager = fileManager(dir);
    await expect(manager.getRoom('bad')).rejects.toBeInstanceOf(RoomLoadError);
    const good = await manager.getRoom('good');
    expect(good.isClosed).toBe(false);
    expect(manager.getRoomIds()).toEqual(['good']);
  });

  it('[P3] a FileStorage file holding valid JSON of the wrong shape fails with SnapshotFormatError', async () => {
    const dir = tempDir();
    await corruptRoomFile(dir, 'r1', JSON.stringify({ timestamp: 'three', state: {}, timestamps: {} }));
    const manager = fileManager(dir);
    const error = await manager.getRoom('r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomLoadError);
    expect((error as RoomLoadError).cause).toBeInstanceOf(SnapshotFormatError);
  });

  const badShapes: [string, unknown][] = [
    [
      'a field stamp that is a string',
      { timestamp: 2, state: { 'e/A': { v: 1 } }, timestamps: { 'e/A': { v: 'one' } } },
    ],
    ['a negative clock', { timestamp: -1, state: {}, timestamps: {} }],
    ['a fractional clock', { timestamp: 1.5, state: {}, timestamps: {} }],
    ['a missing state', { timestamp: 1, timestamps: {} }],
    ['state as an array', { timestamp: 1, state: [], timestamps: {} }],
    ['a component that is not an object', { timestamp: 1, state: { 'e/A': 5 }, timestamps: {} }],
    ['timestamps that are not an object', { timestamp: 1, state: {}, timestamps: 'x' }],
    [
      'a stamp above the clock',
      { timestamp: 1, state: { 'e/A': { v: 1 } }, timestamps: { 'e/A': { v: 9 } } },
    ],
    ['an array instead of a snapshot', [1, 2, 3]],
    ['a string instead of a snapshot', 'snapshot'],
  ];

  for (const [label, snapshot] of badShapes) {
    it(`[P3] a loaded snapshot with ${label} fails the load with SnapshotFormatError inside RoomLoadError`, async () => {
      const storage = new ControllableStorage();
      storage.stored = snapshot as never;
      const manager = new RoomManager({ logger: silentLogger, createStorage: () => storage });
      managers.push(manager);
      const error = await manager.getRoom('r1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RoomLoadError);
      expect((error as RoomLoadError).cause).toBeInstanceOf(SnapshotFormatError);
      expect(manager.getExistingRoom('r1')).toBeUndefined();
      await manager.closeAll();
      expect(storage.saved).toEqual([]);
    });
  }

  it('[P3] Room.load itself rejects with SnapshotFormatError for a bad shape', async () => {
    const storage = new ControllableStorage();
    storage.stored = { timestamp: 2, state: { 'e/A': { v: 1 } }, timestamps: { 'e/A': { v: 'x' } } } as never;
    const room = new Room({ storage, logger: silentLogger });
    await expect(room.load()).rejects.toBeInstanceOf(SnapshotFormatError);
  });
});
