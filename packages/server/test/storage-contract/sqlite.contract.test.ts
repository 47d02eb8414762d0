import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Room, SqliteStorage, StorageCorruptError, silentLogger } from '../../src/index.js';
import { connect } from '../helpers/room-harness.js';
import { describeStorageContract } from './contract.js';
import { acks, connectLogged, waitFor, write } from './contract-helpers.js';

const dirs: string[] = [];
function tempDbPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-contract-'));
  dirs.push(dir);
  return path.join(dir, 'data', 'rooms.db');
}

/** Writes a raw component row with better-sqlite3 directly, bypassing SqliteStorage. */
function putRawRow(dbPath: string, roomId: string, key: string, data: string, stamps: string): void {
  const db = new Database(dbPath);
  try {
    db.prepare(
      `INSERT INTO components (room_id, key, data, stamps) VALUES (?, ?, ?, ?)
       ON CONFLICT (room_id, key) DO UPDATE SET data = excluded.data, stamps = excluded.stamps`,
    ).run(roomId, key, data, stamps);
  } finally {
    db.close();
  }
}

// One database file for every room; a restart closes it and opens a new connection.
describeStorageContract(
  'SqliteStorage',
  () => {
    const dbPath = tempDbPath();
    let sqlite = new SqliteStorage({ path: dbPath });
    const extra: SqliteStorage[] = [];
    return {
      storageFor: (roomId) => sqlite.forRoom(roomId),
      historyStorageFor: (roomId, options) => {
        const storage = new SqliteStorage({ path: dbPath, ...options });
        extra.push(storage);
        return storage.forRoom(roomId);
      },
      restart: async () => {
        await sqlite.close();
        sqlite = new SqliteStorage({ path: dbPath });
      },
      corrupt: async (roomId) => putRawRow(dbPath, roomId, 'k', '{"_exists": tr', '{"_exists": 1}'),
      cleanup: async () => {
        await sqlite.close();
        for (const storage of extra) await storage.close();
        fs.rmSync(path.dirname(path.dirname(dbPath)), { recursive: true, force: true });
      },
    };
  },
  { durable: true, history: true },
);

describe('SqliteStorage specifics', () => {
  const open: Array<{ close(): void }> = [];
  const rooms: Room[] = [];
  afterEach(async () => {
    await Promise.allSettled(rooms.splice(0).map((room) => room.close({ flush: false })));
    for (const db of open.splice(0)) db.close();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  function storage(dbPath = tempDbPath()): SqliteStorage {
    const sqlite = new SqliteStorage({ path: dbPath });
    open.push(sqlite);
    return sqlite;
  }

  async function roomOver(sqlite: SqliteStorage, roomId: string): Promise<Room> {
    const room = new Room({ storage: sqlite.forRoom(roomId), logger: silentLogger, roomId });
    rooms.push(room);
    await room.load();
    return room;
  }

  it('[P1] listRooms lists exactly the rooms with stored data; deleteRoom removes one room and nothing else', async () => {
    const sqlite = storage();
    expect(sqlite.listRooms()).toEqual([]);
    for (const id of ['b', 'a', 'c']) {
      const room = await roomOver(sqlite, id);
      write(connect(room), { k: { _exists: true, id } });
      await room.close();
    }
    const idle = await roomOver(sqlite, 'opened-only');
    await idle.close();
    expect(sqlite.listRooms()).toEqual(['a', 'b', 'c']);

    sqlite.deleteRoom('b');
    expect(sqlite.listRooms()).toEqual(['a', 'c']);
    expect(await sqlite.forRoom('b').load()).toBeNull();
    expect((await roomOver(sqlite, 'b')).getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    expect((await sqlite.forRoom('a').load())?.state).toEqual({ k: { _exists: true, id: 'a' } });
    expect((await sqlite.forRoom('c').load())?.state).toEqual({ k: { _exists: true, id: 'c' } });
    sqlite.deleteRoom('never-existed');
    expect(sqlite.listRooms()).toEqual(['a', 'c']);
  });

  it('[P1] isHealthy is true while the database is open and false after close', () => {
    const sqlite = storage();
    expect(sqlite.isHealthy()).toBe(true);
    sqlite.close();
    expect(sqlite.isHealthy()).toBe(false);
  });

  it('[P2] when the ack arrives the write is already in the database file, visible to another connection', async () => {
    const dbPath = tempDbPath();
    const room = await roomOver(storage(dbPath), 'visible');
    const reader = new Database(dbPath, { readonly: true });
    open.push(reader);
    const query = reader.prepare<[string, string], { data: string; stamps: string }>(
      'SELECT data, stamps FROM components WHERE room_id = ? AND key = ?',
    );
    const seenAtAck: Array<{ data: string; stamps: string } | undefined> = [];
    const a = connectLogged(room, 'a', [], (message) => {
      if (message.type === 'ack') seenAtAck.push(query.get('visible', 'k'));
    });
    write(a, { k: { _exists: true, v: 1 } });
    await waitFor(() => acks(a).length === 1, 'the ack');
    expect(seenAtAck).toEqual([{ data: '{"_exists":true,"v":1}', stamps: '{"_exists":1,"v":1}' }]);
  });

  it('[P3] a row whose stamps are not JSON, written directly, makes load reject; the room never opens empty', async () => {
    const dbPath = tempDbPath();
    const sqlite = storage(dbPath);
    const room = await roomOver(sqlite, 'bad-stamps');
    write(connect(room), { k: { _exists: true }, j: { _exists: true } });
    await room.close();
    putRawRow(dbPath, 'bad-stamps', 'j', '{"_exists":true}', 'nope');
    await expect(sqlite.forRoom('bad-stamps').load()).rejects.toBeInstanceOf(StorageCorruptError);
    await expect(roomOver(sqlite, 'bad-stamps')).rejects.toBeInstanceOf(StorageCorruptError);
  });
  it('[H1][P3] a history row whose previous states are not JSON makes a read that needs it reject; reads that do not, and history pages, still work', async () => {
    const dbPath = tempDbPath();
    const sqlite = storage(dbPath);
    const room = await roomOver(sqlite, 'bad-history');
    for (let v = 1; v <= 3; v++) {
      room.applyServerPatch([{ k: { _exists: true, v } }]);
      await room.flush();
    }
    const db = new Database(dbPath);
    open.push(db);
    db.prepare("UPDATE history SET previous = '[{' WHERE room_id = ? AND clock = 2").run('bad-history');
    await expect(room.readAt(1)).rejects.toBeInstanceOf(StorageCorruptError);
    expect((await room.readAt(2)).components).toEqual([
      { key: 'k', data: { _exists: true, v: 2 }, stamps: { _exists: 2, v: 2 } },
    ]);
    // At clock 0, k is undone by the write at clock 1 (the oldest after 0): the broken row is not needed.
    expect((await room.readAt(0)).components).toEqual([]);
    expect((await room.listHistory({ limit: 10 })).entries.map((entry) => entry.clock)).toEqual([3, 2, 1]);
  });
});
