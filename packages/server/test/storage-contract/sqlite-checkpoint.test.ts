/**
 * SqliteStorage never checkpoints the WAL inside a commit: a worker thread with
 * its own connection does (SPEC P2, O4). These tests check that the WAL is
 * checkpointed into the database file, restarts while commits never stop, is
 * truncated after a burst, and is gone after close().
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type CommitBatch, SqliteStorage } from '../../src/index.js';
import { WAL_SIZE_LIMIT_BYTES } from '../../src/storage/sqlite/sqlite-storage.js';
import { waitFor } from './contract-helpers.js';

const dirs: string[] = [];
const storages: SqliteStorage[] = [];

afterEach(async () => {
  await Promise.all(storages.splice(0).map((sqlite) => sqlite.close()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-checkpoint-'));
  dirs.push(dir);
  return path.join(dir, 'rooms.db');
}

function open(dbPath: string): SqliteStorage {
  const sqlite = new SqliteStorage({ path: dbPath });
  storages.push(sqlite);
  return sqlite;
}

function batch(timestamp: number, keys: number, labelLength = 100): CommitBatch {
  const components: CommitBatch['components'] = [];
  for (let i = 0; i < keys; i++) {
    components.push({
      key: `e${timestamp}-${i}/Shape`,
      data: { _exists: true, label: 'x'.repeat(labelLength), i },
      stamps: { _exists: timestamp, label: timestamp, i: timestamp },
    });
  }
  return { timestamp, components };
}

const walSize = (dbPath: string) => (fs.existsSync(`${dbPath}-wal`) ? fs.statSync(`${dbPath}-wal`).size : 0);

/** The WAL header's checkpoint sequence number: SQLite increments it each time the WAL restarts. */
function walRestarts(dbPath: string): number {
  const header = Buffer.alloc(32);
  const fd = fs.openSync(`${dbPath}-wal`, 'r');
  try {
    return fs.readSync(fd, header, 0, 32, 0) === 32 ? header.readUInt32BE(12) : 0;
  } finally {
    fs.closeSync(fd);
  }
}

/** Components of `roomId` found in a copy of the database file alone, without its WAL. */
function componentsInDatabaseFile(dbPath: string, roomId: string): number {
  const copy = `${dbPath}.copy`;
  fs.rmSync(`${copy}-wal`, { force: true });
  fs.rmSync(`${copy}-shm`, { force: true });
  fs.copyFileSync(dbPath, copy);
  try {
    const db = new Database(copy);
    try {
      const row = db.prepare('SELECT count(*) AS n FROM components WHERE room_id = ?').get(roomId) as {
        n: number;
      };
      return row.n;
    } finally {
      db.close();
    }
  } catch {
    return -1; // copied mid-write or before the tables were checkpointed
  }
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Commits one small batch after another, paced by timer turns, until `done()` holds. */
async function commitUntil(
  room: ReturnType<SqliteStorage['forRoom']>,
  firstTimestamp: number,
  done: () => boolean,
  what: string,
): Promise<number> {
  const started = Date.now();
  let timestamp = firstTimestamp;
  while (!done()) {
    if (Date.now() - started > 60_000) throw new Error(`gave up waiting for ${what}`);
    await room.commit(batch(timestamp++, 3));
    await pause();
  }
  return timestamp - firstTimestamp;
}

describe('[P2][O4] SqliteStorage checkpoints off the main thread', () => {
  it('[P2] the worker checkpoints a burst into the database file; the WAL file is then truncated', async () => {
    const dbPath = tempDbPath();
    const room = open(dbPath).forRoom('burst');
    let t = 1;
    while (walSize(dbPath) <= 2 * WAL_SIZE_LIMIT_BYTES) await room.commit(batch(t++, 2_000, 1_000));
    const committed = (t - 1) * 2_000;
    const peak = walSize(dbPath);
    await waitFor(
      () => componentsInDatabaseFile(dbPath, 'burst') === committed,
      'every committed row to reach the database file',
    );
    // The next commit after a complete checkpoint restarts the WAL and truncates its file.
    await commitUntil(room, 1_000, () => walSize(dbPath) <= WAL_SIZE_LIMIT_BYTES, 'the WAL to be truncated');
    expect(walSize(dbPath)).toBeLessThan(peak);
  });

  it('[P2][O4] while commits never stop, the WAL still restarts, so it does not grow without bound', async () => {
    const dbPath = tempDbPath();
    const room = open(dbPath).forRoom('steady');
    await room.commit(batch(1, 10));
    const first = walRestarts(dbPath);
    const commits = await commitUntil(room, 2, () => walRestarts(dbPath) >= first + 3, 'three WAL restarts');
    const stored = await room.load();
    expect(stored?.timestamp).toBe(1 + commits);
    expect(Object.keys(stored?.state ?? {})).toHaveLength(10 + 3 * commits);
  });

  it('[P2] close() stops the worker after a final checkpoint: the WAL file is gone and the database file holds everything', async () => {
    const dbPath = tempDbPath();
    const sqlite = open(dbPath);
    const room = sqlite.forRoom('closing');
    for (let t = 1; t <= 3; t++) await room.commit(batch(t, 500));
    await sqlite.close();
    expect(fs.existsSync(`${dbPath}-wal`)).toBe(false);
    expect(componentsInDatabaseFile(dbPath, 'closing')).toBe(1_500);
    const reopened = open(dbPath);
    expect(Object.keys((await reopened.forRoom('closing').load())?.state ?? {})).toHaveLength(1_500);
  });
});
