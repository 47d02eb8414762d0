import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStorage, type RoomSnapshot, StorageCorruptError } from '../../src/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it. */
function filesIn(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    fs.statSync(path.join(dir, f)).isFile(),
  );
}

/** The path of the single snapshot file a storage wrote in `dir`. */
async function snapshotPath(dir: string, roomId: string): Promise<string> {
  await new FileStorage({ dir, roomId }).save({ timestamp: 0, state: {}, timestamps: {} });
  const files = filesIn(dir);
  expect(files).toHaveLength(1);
  return path.join(dir, files[0] as string);
}

const WITH_TOMBSTONE: RoomSnapshot = {
  timestamp: 7,
  state: {
    'e1/Shape': { _exists: true, _version: '2', kind: 'ellipse', points: [0, 1.5, -2] },
    'e2/Shape': { _exists: false },
    'SINGLETON/Doc': { title: 'héllo "world"', meta: { tags: ['a', 'b'], n: null } },
  },
  timestamps: {
    'e1/Shape': { _exists: 1, _version: 1, kind: 6, points: 7 },
    'e2/Shape': { _exists: 4 },
    'SINGLETON/Doc': { title: 2, meta: 3 },
  },
};

describe('FileStorage (P1, P3)', () => {
  it('[P1] load returns null when the room was never saved (no file, not even the directory)', async () => {
    const dir = path.join(tempDir(), 'not', 'yet');
    expect(await new FileStorage({ dir, roomId: 'r1' }).load()).toBeNull();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('[P1][D9] round-trips a snapshot with tombstones, also through a new instance', async () => {
    const dir = path.join(tempDir(), 'data');
    const storage = new FileStorage({ dir, roomId: 'room-1' });
    await storage.save(WITH_TOMBSTONE);
    expect(await storage.load()).toEqual(WITH_TOMBSTONE);
    expect(await new FileStorage({ dir, roomId: 'room-1' }).load()).toEqual(WITH_TOMBSTONE);
  });

  it('[P1] the last save wins, also when saves are issued without waiting', async () => {
    const dir = tempDir();
    const storage = new FileStorage({ dir, roomId: 'r1' });
    const snapshots = [1, 2, 3, 4, 5].map(
      (n): RoomSnapshot => ({ timestamp: n, state: { 'e/A': { v: n } }, timestamps: { 'e/A': { v: n } } }),
    );
    await Promise.all(snapshots.map((s) => storage.save(s)));
    expect(await storage.load()).toEqual(snapshots[4]);
    // Atomic replacement leaves no temporary files behind.
    expect(filesIn(dir)).toHaveLength(1);
  });

  it('[P1] rooms are stored separately; ids with path characters stay inside the directory', async () => {
    const root = tempDir();
    const dir = path.join(root, 'data');
    const ids = ['a', 'a/b', '../escape', '..', '.', 'x\\y', 'spaced name', 'ü/ñ?#%'];
    for (const [i, roomId] of ids.entries()) {
      await new FileStorage({ dir, roomId }).save({ timestamp: i, state: {}, timestamps: {} });
    }
    for (const [i, roomId] of ids.entries()) {
      expect((await new FileStorage({ dir, roomId }).load())?.timestamp).toBe(i);
    }
    expect(fs.readdirSync(root)).toEqual(['data']);
    const files = filesIn(dir);
    expect(files).toHaveLength(ids.length);
    for (const f of files) expect(path.dirname(f)).toBe('.');
  });

  it('[P1] a very long room id still maps to its own file', async () => {
    const dir = tempDir();
    const long1 = `${'x'.repeat(500)}1`;
    const long2 = `${'x'.repeat(500)}2`;
    await new FileStorage({ dir, roomId: long1 }).save({ timestamp: 1, state: {}, timestamps: {} });
    await new FileStorage({ dir, roomId: long2 }).save({ timestamp: 2, state: {}, timestamps: {} });
    expect((await new FileStorage({ dir, roomId: long1 }).load())?.timestamp).toBe(1);
    expect((await new FileStorage({ dir, roomId: long2 }).load())?.timestamp).toBe(2);
  });

  it('[P3] a file that is not JSON makes load throw StorageCorruptError', async () => {
    const dir = tempDir();
    const file = await snapshotPath(dir, 'r1');
    fs.writeFileSync(file, 'this is not json {');
    await expect(new FileStorage({ dir, roomId: 'r1' }).load()).rejects.toBeInstanceOf(StorageCorruptError);
  });

  it('[P3] an empty or truncated file makes load throw StorageCorruptError, never return null', async () => {
    const dir = tempDir();
    const file = await snapshotPath(dir, 'r1');
    const storage = new FileStorage({ dir, roomId: 'r1' });
    fs.writeFileSync(file, '');
    await expect(storage.load()).rejects.toBeInstanceOf(StorageCorruptError);
    fs.writeFileSync(file, JSON.stringify(WITH_TOMBSTONE).slice(0, 40));
    await expect(storage.load()).rejects.toBeInstanceOf(StorageCorruptError);
  });

  it('[P3] an unreadable snapshot path makes load throw StorageCorruptError', async () => {
    const dir = tempDir();
    const file = await snapshotPath(dir, 'r1');
    fs.rmSync(file);
    fs.mkdirSync(file);
    const error = await new FileStorage({ dir, roomId: 'r1' }).load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect((error as StorageCorruptError).cause).toBeDefined();
  });

  it('[P1] the constructor refuses a missing dir or roomId', () => {
    expect(() => new FileStorage({ dir: '', roomId: 'r' })).toThrow(TypeError);
    expect(() => new FileStorage({ dir: tempDir(), roomId: '' })).toThrow(TypeError);
  });
});
