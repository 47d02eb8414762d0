import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FileStorage,
  type FileStorageOptions,
  Room,
  type RoomSnapshot,
  StorageCorruptError,
  silentLogger,
} from '../../src/index.js';
import { connect } from '../helpers/room-harness.js';
import { describeStorageContract } from './contract.js';
import { acks, turns, waitFor, write } from './contract-helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-contract-'));
  dirs.push(dir);
  return dir;
}

// Room ids used here are plain [a-z0-9-], which FileStorage keeps as the file name.
const snapshotFile = (dir: string, roomId: string) => path.join(dir, `${roomId}.json`);
const journalFile = (dir: string, roomId: string) => path.join(dir, `${roomId}.journal`);

describeStorageContract(
  'FileStorage',
  () => {
    const dir = tempDir();
    return {
      storageFor: (roomId) => new FileStorage({ dir, roomId }),
      // A tiny fold threshold, so history crosses folds (the history file) in the retention tests.
      historyStorageFor: (roomId, options) =>
        new FileStorage({ dir, roomId, compactAfterBytes: 256, ...options }),
      restart: async () => {},
      corrupt: async (roomId) => {
        fs.writeFileSync(snapshotFile(dir, roomId), '{"timestamp": 4, "state": {"k": ');
      },
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
  { durable: true, history: true },
);

describe('FileStorage specifics', () => {
  const rooms: Room[] = [];
  afterEach(async () => {
    await Promise.allSettled(rooms.splice(0).map((room) => room.close({ flush: false })));
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function open(options: FileStorageOptions): Promise<Room> {
    const room = new Room({ storage: new FileStorage(options), logger: silentLogger });
    rooms.push(room);
    await room.load();
    return room;
  }

  it('[P2][P3] a torn last journal line is ignored on load and the next commit still works', async () => {
    const dir = tempDir();
    const room = await open({ dir, roomId: 'torn' });
    const a = connect(room);
    write(a, { k: { _exists: true, v: 1 } });
    await turns(1);
    write(a, { j: { _exists: true } }, { k: { v: 2 } });
    await room.flush();
    await room.close({ flush: false }); // a crash: the journal is not folded
    const journal = journalFile(dir, 'torn');
    const complete = fs.readFileSync(journal, 'utf8');
    expect(complete.split('\n')).toHaveLength(3);
    fs.appendFileSync(journal, '{"timestamp":3,"components":[{"key":"k","data":{"_exists":tr');

    const again = await open({ dir, roomId: 'torn' });
    expect(again.getSnapshot()).toEqual(room.getSnapshot());
    const b = connect(again);
    const id = write(b, { k: { v: 3 } });
    await waitFor(() => acks(b).length === 1, 'the ack after the torn line');
    expect(acks(b)).toEqual([{ messageId: id, timestamp: 3 }]);
    const expected = again.getSnapshot();
    await again.close({ flush: false });
    // The torn tail was dropped before appending, so the journal is all complete lines.
    expect(fs.readFileSync(journal, 'utf8').startsWith(complete)).toBe(true);
    const third = await open({ dir, roomId: 'torn' });
    expect(third.getSnapshot()).toEqual(expected);
    expect(third.getSnapshot().state.k).toEqual({ _exists: true, v: 3 });
  });

  it('[P3] a malformed complete journal line makes load reject with StorageCorruptError', async () => {
    const dir = tempDir();
    const room = await open({ dir, roomId: 'bad-line' });
    write(connect(room), { k: { _exists: true } });
    await room.flush();
    await room.close({ flush: false });
    const journal = journalFile(dir, 'bad-line');
    const valid = fs.readFileSync(journal, 'utf8');
    for (const bad of [
      'not json\n',
      '{"timestamp":"2","components":[]}\n',
      '{"timestamp":2,"components":[5]}\n',
    ]) {
      fs.writeFileSync(journal, `${valid}${bad}${valid.replace('"timestamp":1', '"timestamp":3')}`);
      await expect(new FileStorage({ dir, roomId: 'bad-line' }).load()).rejects.toBeInstanceOf(
        StorageCorruptError,
      );
      const refused = new Room({
        storage: new FileStorage({ dir, roomId: 'bad-line' }),
        logger: silentLogger,
      });
      await expect(refused.load()).rejects.toBeInstanceOf(StorageCorruptError);
    }
  });

  it('[P2][D9] closing folds the journal into the .json snapshot, which alone then holds everything', async () => {
    const dir = tempDir();
    const room = await open({ dir, roomId: 'fold' });
    const a = connect(room);
    write(a, { k: { _exists: true, v: 1 }, gone: { _exists: true, w: 1 } });
    await turns(1);
    write(a, { gone: { _exists: false } }, { k: { v: 2 } });
    await room.flush();
    expect(fs.existsSync(journalFile(dir, 'fold'))).toBe(true);
    await room.close();
    expect(fs.existsSync(journalFile(dir, 'fold'))).toBe(false);
    const snapshot = JSON.parse(fs.readFileSync(snapshotFile(dir, 'fold'), 'utf8')) as RoomSnapshot;
    expect(snapshot).toEqual({
      timestamp: 2,
      state: { k: { _exists: true, v: 2 }, gone: { _exists: false } },
      timestamps: { k: { _exists: 1, v: 2 }, gone: { _exists: 2 } },
    });
    expect(fs.readdirSync(dir).sort()).toEqual(['fold.history', 'fold.json']);
  });

  it('[P2] closing right after writes, with their commits still pending, also folds the journal', async () => {
    const dir = tempDir();
    const room = await open({ dir, roomId: 'fold-pending' });
    const a = connect(room);
    write(a, { k: { _exists: true, v: 1 } });
    write(a, { j: { _exists: true } });
    const expected = room.getSnapshot();
    await room.close(); // e.g. closeAll() on shutdown right after the last write
    expect(fs.readdirSync(dir).sort()).toEqual(['fold-pending.history', 'fold-pending.json']);
    const snapshot = JSON.parse(fs.readFileSync(snapshotFile(dir, 'fold-pending'), 'utf8')) as RoomSnapshot;
    expect(snapshot).toEqual(expected);
  });

  it('[P2] folding while writes continue (tiny compactAfterBytes) loses nothing', async () => {
    const dir = tempDir();
    const room = await open({ dir, roomId: 'compact', compactAfterBytes: 1 });
    const clients = [connect(room), connect(room)];
    for (let round = 0; round < 40; round++) {
      clients.forEach((client, i) => {
        write(client, { [`k${round % 7}`]: { _exists: true, round, by: i } }, { [`r${round}`]: { i } });
      });
      if (round % 9 === 0) write(clients[0] ?? connect(room), { k3: { _exists: false } });
      if (round % 4 === 0) await room.flush();
      else await turns(1);
    }
    await room.flush();
    // The storage folds by itself, never through the room's save.
    await waitFor(() => fs.existsSync(snapshotFile(dir, 'compact')), 'a fold while open');
    expect(room.stats.saves).toBe(0);
    const expected = room.getSnapshot();
    await room.close({ flush: false }); // a crash: whatever the last fold left must suffice
    const again = await open({ dir, roomId: 'compact' });
    expect(again.getSnapshot()).toEqual(expected);
  });
});
