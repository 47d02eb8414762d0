/**
 * FileStorage folds its journal into the snapshot by itself, off the main
 * thread (SPEC P2, O4): the room never builds snapshots for it, commits go on
 * during a fold, and snapshot + segment + journal always hold every committed
 * batch, also after a crash mid-fold.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CommitBatch,
  FileStorage,
  type FileStorageOptions,
  Room,
  type RoomSnapshot,
  silentLogger,
} from '../../src/index.js';
import { connect } from '../helpers/room-harness.js';
import { capturingLogger, turns, waitFor, write } from './contract-helpers.js';

const dirs: string[] = [];
const rooms: Room[] = [];

afterEach(async () => {
  await Promise.allSettled(rooms.splice(0).map((room) => room.close({ flush: false })));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-fold-'));
  dirs.push(dir);
  return dir;
}

// Room ids used here are plain [a-z0-9-], which FileStorage keeps as the file name.
const filesOf = (dir: string, roomId: string) => ({
  snapshot: path.join(dir, `${roomId}.json`),
  segment: path.join(dir, `${roomId}.journal.folding`),
  journal: path.join(dir, `${roomId}.journal`),
});

const readSnapshot = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as RoomSnapshot;

async function openRoom(options: FileStorageOptions): Promise<{ room: Room; storage: FileStorage }> {
  const storage = new FileStorage(options);
  const room = new Room({ storage, logger: silentLogger, roomId: options.roomId });
  rooms.push(room);
  await room.load();
  return { room, storage };
}

/** A patch of `count` components big enough that folding it runs in a worker thread. */
function bigPatch(count: number, round: number): Record<string, Record<string, unknown>> {
  const patch: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < count; i++) {
    patch[`e${i}/Shape`] = { _exists: true, round, label: `shape ${i} ${'x'.repeat(60)}`, x: i, y: round };
  }
  return patch;
}

/** One journal line, as FileStorage writes it. */
function line(timestamp: number, components: CommitBatch['components']): string {
  return `${JSON.stringify({ timestamp, components })}\n`;
}

describe('[P2][O4] FileStorage folds its journal by itself, off the main thread', () => {
  it('[P2][O4] the room never builds a snapshot (wantsSnapshot is false); the .json eventually holds everything', async () => {
    const dir = tempDir();
    const files = filesOf(dir, 'self-fold');
    const { room, storage } = await openRoom({ dir, roomId: 'self-fold', compactAfterBytes: 1 });
    const a = connect(room);
    for (let round = 0; round < 3; round++) {
      write(a, bigPatch(1_500, round));
      await room.flush();
      expect(storage.wantsSnapshot('write')).toBe(false);
    }
    write(a, { 'e1/Shape': { _exists: false } });
    await room.flush();
    const expected = room.getSnapshot();
    // Every commit passes this threshold, so folds go on in the background until none is left.
    await waitFor(
      () => !fs.existsSync(files.segment) && !fs.existsSync(files.journal),
      'the background folds to take in every commit',
    );
    expect(room.stats.saves).toBe(0);
    await room.close({ flush: false });
    expect(fs.readdirSync(dir).sort()).toEqual(['self-fold.history', 'self-fold.json']);
    expect(readSnapshot(files.snapshot).state['e1/Shape']).toEqual({ _exists: false });
    const again = await openRoom({ dir, roomId: 'self-fold' });
    expect(again.room.getSnapshot()).toEqual(expected);
  });

  it('[P2][O4] commits go on while a fold runs, and none of them is lost', async () => {
    const dir = tempDir();
    const files = filesOf(dir, 'during');
    const { room } = await openRoom({ dir, roomId: 'during', compactAfterBytes: 4096 });
    const a = connect(room);
    write(a, bigPatch(2_000, 0));
    await room.flush(); // this commit passed the threshold: the journal is rotated and folded
    let committedDuringFold = 0;
    for (let i = 0; i < 20; i++) {
      write(a, { [`during${i}/Shape`]: { _exists: true, i } }, { 'e0/Shape': { round: i } });
      await room.flush();
      if (fs.existsSync(files.segment)) committedDuringFold++;
    }
    expect(committedDuringFold).toBeGreaterThan(0);
    expect(room.stats.saves).toBe(0);
    const expected = room.getSnapshot();
    await room.close({ flush: false }); // like a crash: waits for a running fold, folds nothing more
    const again = await openRoom({ dir, roomId: 'during' });
    expect(again.room.getSnapshot()).toEqual(expected);
  });

  it('[P2] a clean close folds everything: only the .json is left and it alone holds the room', async () => {
    const dir = tempDir();
    const { room } = await openRoom({ dir, roomId: 'closing', compactAfterBytes: 4096 });
    const a = connect(room);
    write(a, bigPatch(1_000, 0));
    await turns(1);
    write(a, { 'e2/Shape': { _exists: false } }, { 'e3/Shape': { x: -3 } });
    const expected = room.getSnapshot();
    await room.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['closing.history', 'closing.json']);
    const { state, timestamp } = readSnapshot(filesOf(dir, 'closing').snapshot);
    expect(timestamp).toBe(expected.timestamp);
    expect(state['e2/Shape']).toEqual({ _exists: false });
    const again = await openRoom({ dir, roomId: 'closing' });
    expect(again.room.getSnapshot()).toEqual(expected);
  });

  it('[P2][P3][H3] a .folding segment left by a crash mid-fold is replayed between snapshot and journal, then folded on close', async () => {
    const dir = tempDir();
    const files = filesOf(dir, 'crashed');
    fs.writeFileSync(
      files.snapshot,
      JSON.stringify({
        timestamp: 2,
        state: { a: { _exists: true, v: 1 }, b: { _exists: true, v: 2 } },
        timestamps: { a: { _exists: 1, v: 1 }, b: { _exists: 2, v: 2 } },
      }),
    );
    fs.writeFileSync(
      files.segment,
      line(2, [{ key: 'a', data: { _exists: true, v: 'already folded' }, stamps: { _exists: 1, v: 2 } }]) +
        line(3, [{ key: 'b', data: { _exists: false }, stamps: { _exists: 3 } }]) +
        line(4, [{ key: 'c', data: { _exists: true, v: 4 }, stamps: { _exists: 4, v: 4 } }]) +
        '{"timestamp":5,"components":[{"key":"torn',
    );
    fs.writeFileSync(
      files.journal,
      line(5, [{ key: 'c', data: { _exists: true, v: 5 }, stamps: { _exists: 4, v: 5 } }]) +
        '{"timestamp":6,"comp',
    );
    const expected: RoomSnapshot = {
      timestamp: 5,
      state: { a: { _exists: true, v: 1 }, b: { _exists: false }, c: { _exists: true, v: 5 } },
      timestamps: { a: { _exists: 1, v: 1 }, b: { _exists: 3 }, c: { _exists: 4, v: 5 } },
    };
    expect(await new FileStorage({ dir, roomId: 'crashed' }).load()).toEqual(expected);

    const { room } = await openRoom({ dir, roomId: 'crashed' });
    write(connect(room), { d: { _exists: true, v: 6 } });
    await room.flush();
    const after = room.getSnapshot();
    await room.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['crashed.history', 'crashed.json']);
    // H3: these files predate history, so the horizon is the clock they were loaded at (5) and
    // the fold drops the tombstone of b (deleted at 3); every live key is kept.
    expect(readSnapshot(files.snapshot)).toEqual({
      timestamp: 6,
      state: { a: expected.state.a, c: expected.state.c, d: { _exists: true, v: 6 } },
      timestamps: { a: expected.timestamps.a, c: expected.timestamps.c, d: { _exists: 6, v: 6 } },
    });
    const again = await openRoom({ dir, roomId: 'crashed' });
    expect(again.room.getSnapshot()).toEqual(after);
  });

  it('[P2][P4] a fold that fails leaves every write in segment and journal; commits go on, and a later close folds', async () => {
    const dir = tempDir();
    const files = filesOf(dir, 'failing');
    const logger = capturingLogger();
    const storage = new FileStorage({ dir, roomId: 'failing', compactAfterBytes: 1 });
    const room = new Room({ storage, logger, roomId: 'failing' });
    rooms.push(room);
    await room.load();
    // A directory where the snapshot belongs makes every fold fail.
    fs.mkdirSync(files.snapshot);
    const a = connect(room);
    write(a, { k: { _exists: true, v: 1 } }, { gone: { _exists: true } });
    await room.flush();
    await waitFor(() => fs.existsSync(files.segment), 'the failed fold to leave its segment');
    write(a, { gone: { _exists: false } }, { k: { v: 2 } });
    await room.flush();
    const expected = room.getSnapshot();
    await room.close(); // the final fold fails too: logged, and the files keep everything
    expect(logger.entries.some((entry) => entry.message === 'storage close failed')).toBe(true);
    // Another process reading now (once the snapshot path is sane) finds every acked write.
    fs.rmdirSync(files.snapshot);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'failing.history',
      'failing.journal',
      'failing.journal.folding',
    ]);
    const { room: again } = await openRoom({ dir, roomId: 'failing' });
    expect(again.getSnapshot()).toEqual(expected);
    await again.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['failing.history', 'failing.json']);
    const third = await openRoom({ dir, roomId: 'failing' });
    expect(third.room.getSnapshot()).toEqual(expected);
  });

  it('[P1] FileStorage.deleteRoom removes the journal, a leftover segment and the snapshot', async () => {
    const dir = tempDir();
    const files = filesOf(dir, 'doomed');
    const { room } = await openRoom({ dir, roomId: 'doomed' });
    write(connect(room), { k: { _exists: true } });
    await room.close();
    fs.writeFileSync(files.segment, line(2, [{ key: 'j', data: { _exists: true }, stamps: { _exists: 2 } }]));
    fs.writeFileSync(files.journal, line(3, [{ key: 'i', data: { _exists: true }, stamps: { _exists: 3 } }]));
    const { room: other } = await openRoom({ dir, roomId: 'kept' });
    write(connect(other), { k: { _exists: true } });
    await other.close();
    await FileStorage.deleteRoom(dir, 'doomed');
    expect(fs.readdirSync(dir).sort()).toEqual(['kept.history', 'kept.json']);
    expect(await new FileStorage({ dir, roomId: 'doomed' }).load()).toBeNull();
  });

  it('[P1][P2] save(), the seed API, replaces the snapshot and keeps the commits after it', async () => {
    const dir = tempDir();
    const { room, storage } = await openRoom({ dir, roomId: 'seed-save' });
    const a = connect(room);
    write(a, { k: { _exists: true, v: 1 } });
    await room.flush();
    await storage.save(room.getSnapshot());
    write(a, { j: { _exists: true } }, { k: { v: 2 } });
    await room.flush();
    const expected = room.getSnapshot();
    await room.close({ flush: false }); // a crash: nothing folded
    const again = await openRoom({ dir, roomId: 'seed-save' });
    expect(again.room.getSnapshot()).toEqual(expected);
    await again.room.close();
    expect(readSnapshot(filesOf(dir, 'seed-save').snapshot)).toEqual(expected);
  });
});
