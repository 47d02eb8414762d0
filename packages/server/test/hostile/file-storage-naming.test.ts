import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage, type RoomSnapshot } from '../../src/index.js';
import { connect, createRoom } from '../helpers/room-harness.js';

const HOSTILE_ROOM_IDS = [
  '../../etc/passwd',
  'a/b',
  'a%2Fb',
  'a_b',
  '..',
  '.',
  '...',
  '/absolute/path',
  '\\\\server\\share',
  'C:\\Windows\\evil',
  'nul\u0000byte',
  'line\nbreak',
  '%2e%2e%2f',
  `${'../'.repeat(200)}tmp/x`,
  'x'.repeat(1_000),
  `${'é'.repeat(300)}/..`,
  'plain-room',
];

function snapshotFor(index: number): RoomSnapshot {
  return {
    timestamp: index + 1,
    state: { 'e/P': { _exists: true, id: index } },
    timestamps: { 'e/P': { _exists: index + 1, id: index + 1 } },
  };
}

let base: string;
let dir: string;

beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-file-storage-'));
  dir = path.join(base, 'store');
  fs.mkdirSync(dir);
});

afterEach(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

describe('FileStorage file naming', () => {
  it('[B1][B5] hostile room ids write only regular files directly inside the given dir', async () => {
    for (const [i, roomId] of HOSTILE_ROOM_IDS.entries()) {
      await new FileStorage({ dir, roomId }).save(snapshotFor(i));
    }
    // Nothing escaped: the base holds only the store dir, and the store only plain files.
    expect(fs.readdirSync(base)).toEqual(['store']);
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    expect(entries).toHaveLength(HOSTILE_ROOM_IDS.length);
    for (const entry of entries) {
      expect(entry.isFile(), entry.name).toBe(true);
      expect(entry.name).not.toMatch(/[/\\\0\n]/);
      expect(['.', '..']).not.toContain(entry.name);
      expect(entry.name.endsWith('.tmp'), entry.name).toBe(false);
      expect(Buffer.byteLength(entry.name), entry.name).toBeLessThanOrEqual(255);
      expect(path.dirname(path.resolve(dir, entry.name))).toBe(path.resolve(dir));
    }
  });

  it('[B5] distinct hostile room ids never share a file: each loads back its own snapshot', async () => {
    for (const [i, roomId] of HOSTILE_ROOM_IDS.entries()) {
      await new FileStorage({ dir, roomId }).save(snapshotFor(i));
    }
    for (const [i, roomId] of HOSTILE_ROOM_IDS.entries()) {
      expect(await new FileStorage({ dir, roomId }).load(), roomId).toEqual(snapshotFor(i));
    }
  });

  it('[B5] a room id naming a path outside the dir never reads that path', async () => {
    const outside = path.join(base, 'secret.json');
    fs.writeFileSync(outside, JSON.stringify(snapshotFor(99)));
    const storage = new FileStorage({ dir, roomId: '../secret' });
    expect(await storage.load()).toBeNull();
    await storage.save(snapshotFor(1));
    expect(JSON.parse(fs.readFileSync(outside, 'utf8'))).toEqual(snapshotFor(99));
  });

  it('[B5][D9] rooms persisting through FileStorage under hostile ids keep every file inside the dir', async () => {
    const ids = ['../../etc/passwd', 'a/b', '..', `${'../'.repeat(50)}x`];
    for (const [i, roomId] of ids.entries()) {
      const room = createRoom({ roomId, storage: new FileStorage({ dir, roomId }), saveThrottleMs: 0 });
      await room.load();
      const client = connect(room, { clientId: 'c' });
      client.send({
        type: 'patch',
        messageId: 'm',
        documentPatches: [{ 'e/P': { _exists: true, id: i } }, { 'e/Q': { _exists: false } }],
      });
      await room.close();
    }
    expect(fs.readdirSync(base)).toEqual(['store']);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      expect(entry.isFile(), entry.name).toBe(true);
      expect(entry.name.endsWith('.tmp'), entry.name).toBe(false);
    }
    for (const [i, roomId] of ids.entries()) {
      const reopened = createRoom({ roomId, storage: new FileStorage({ dir, roomId }) });
      await reopened.load();
      expect(reopened.getSnapshot().state, roomId).toEqual({ 'e/P': { _exists: true, id: i } });
      await reopened.close({ flush: false });
    }
  });

  it('[B1] empty or non-string room ids are refused at construction', () => {
    expect(() => new FileStorage({ dir, roomId: '' })).toThrow(TypeError);
    expect(() => new FileStorage({ dir, roomId: 5 as unknown as string })).toThrow(TypeError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
