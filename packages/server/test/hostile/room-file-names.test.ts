import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../../src/index.js';
import { legacyRoomFileName, roomFileName } from '../../src/storage/file/room-file-name.js';
import { numberedSnapshot } from '../helpers/numbered-snapshot.js';
import { seededRandom } from '../helpers/seeded-random.js';

const RESERVED = ['CON', 'con', 'Con', 'PRN', 'aux', 'NUL', 'nul', 'COM1', 'com9', 'LPT1', 'lpt0'];
const TRICKY = [
  'Board',
  'board',
  'BOARD',
  'bOard',
  'a_b',
  'aB',
  '_b',
  'a%2Fb',
  'a/b',
  'a%2fb',
  'trailing.',
  'trailing. ',
  'trailing ',
  '...',
  'Ω',
  'ω',
  'ǅ',
  'ǆ',
  'İ',
  'i̇',
  ...RESERVED,
];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-file-names-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The base name a Windows or macOS file system compares: case folded, trailing dots and spaces dropped. */
function folded(name: string): string {
  return name.toLowerCase().replace(/[. ]+$/, '');
}

describe('room file names (SPEC B9)', () => {
  it('[B9] names of distinct ids never collide once case is folded, also for random ids', () => {
    const random = seededRandom(11);
    const alphabet = ['a', 'A', 'b', 'B', '_', '%', '.', ' ', '-', '=', '~', 'é', 'É', '/', '2', 'f', 'F'];
    const ids = new Set(TRICKY);
    for (let i = 0; i < 5_000; i++) {
      const length = 1 + Math.floor(random() * 6);
      let id = '';
      for (let j = 0; j < length; j++) id += alphabet[Math.floor(random() * alphabet.length)];
      ids.add(id);
    }
    const seen = new Map<string, string>();
    for (const id of ids) {
      const name = folded(roomFileName(id, '.json'));
      expect(seen.get(name), `${JSON.stringify(id)} and ${JSON.stringify(seen.get(name))}`).toBeUndefined();
      seen.set(name, id);
    }
  });

  it('[B9] no name is a Windows device name, ends in a dot or space, or holds an upper-case letter', () => {
    for (const id of TRICKY) {
      const base = roomFileName(id, '');
      expect(base, id).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)$/i);
      expect(base, id).not.toMatch(/[. ]$/);
      expect(base, id).not.toMatch(/[A-Z/\\:*?"<>|\0]/);
    }
  });

  it('[B9] a renamed (escaped) name never equals an old-style name of another id, even case-folded', () => {
    const oldNames = new Map(TRICKY.map((id) => [folded(legacyRoomFileName(id, '.json')), id]));
    // Ids that need no escaping keep their old name, so migrating one room cannot take another's file.
    for (const id of TRICKY.filter((id) => roomFileName(id, '') !== legacyRoomFileName(id, ''))) {
      const owner = oldNames.get(folded(roomFileName(id, '.json')));
      if (owner !== undefined) expect(owner, id).toBe(id);
    }
  });

  it('[B9] Board and board are two rooms with two files that each load back their own data', async () => {
    const ids = TRICKY;
    for (const [i, roomId] of ids.entries()) await new FileStorage({ dir, roomId }).save(numberedSnapshot(i));
    const names = fs.readdirSync(dir);
    expect(new Set(names.map(folded)).size).toBe(ids.length);
    for (const [i, roomId] of ids.entries()) {
      expect(await new FileStorage({ dir, roomId }).load(), roomId).toEqual(numberedSnapshot(i));
    }
  });

  it('[B9] files written under the old naming are renamed on load, journal included, and deleteRoom removes both', async () => {
    const roomId = 'Team Board';
    const old = (ext: string) => path.join(dir, legacyRoomFileName(roomId, ext));
    fs.writeFileSync(old('.json'), JSON.stringify(numberedSnapshot(0)));
    const writer = new FileStorage({ dir, roomId: 'writer' });
    await writer.commit({ timestamp: 2, components: [{ key: 'e/Q', data: { x: 1 }, stamps: { x: 2 } }] });
    await writer.close();
    fs.renameSync(path.join(dir, 'writer.journal'), old('.journal'));
    const storage = new FileStorage({ dir, roomId });
    const loaded = await storage.load();
    expect(loaded?.state['e/P']).toEqual({ _exists: true, id: 0 });
    expect(loaded?.state['e/Q']).toMatchObject({ x: 1 });
    expect(fs.readdirSync(dir).sort()).toEqual(
      [roomFileName(roomId, '.journal'), roomFileName(roomId, '.json')].sort(),
    );
    await storage.close();
    // An old file appearing again (an old server version wrote it) is removed with the room.
    fs.writeFileSync(old('.json'), '{}');
    await FileStorage.deleteRoom(dir, roomId);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('[B9] a room whose old and new names agree is not touched', async () => {
    expect(legacyRoomFileName('plain-room-1', '.json')).toBe(roomFileName('plain-room-1', '.json'));
    await new FileStorage({ dir, roomId: 'plain-room-1' }).save(numberedSnapshot(3));
    expect(fs.readdirSync(dir)).toEqual(['plain-room-1.json']);
  });
});
