/**
 * History tables written before the byte bound (SPEC H3) have no `bytes` and
 * `end_bytes` columns. Opening them must add the columns, keep every row
 * readable (old rows count 0 bytes), and from then on apply the byte bound,
 * dropping the old rows with the rest once newer ones fill it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClockedDocument,
  type HistoryRetention,
  PostgresStorage,
  Room,
  type RoomSnapshot,
  SqliteStorage,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import {
  dropStorageTables,
  HOW_TO_RUN_POSTGRES,
  IN_CI,
  postgresProblem,
  TEST_PG_URL,
  withPostgres,
} from '../helpers/postgres.js';

const pgUnreachable = await postgresProblem();
const dirs: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  for (const prefix of prefixes) await dropStorageTables(prefix);
});

/** Each edit keeps the previous 1,000-character text: about 1,100 bytes an entry. */
const edit = (step: number) => ({ doc: { _exists: true, text: `${step}`.padStart(1_000, '.') } });

interface Backend {
  /** A storage over the database; `history` sets its retention. */
  open(history?: Partial<HistoryRetention>): { storage: Storage; close: () => Promise<void> | void };
  /** Removes the byte columns, as the table was before them. */
  dropColumns(): Promise<void>;
  /** The column names of the history table. */
  columns(): Promise<string[]>;
}

async function run(backend: Backend): Promise<void> {
  const reference = new ClockedDocument();
  const states: RoomSnapshot[] = [reference.toSnapshot({ includeTombstones: false })];
  const write = async (room: Room, from: number, to: number) => {
    for (let step = from; step <= to; step++) {
      room.applyServerPatch([edit(step)]);
      reference.applyPatches([edit(step)]);
      states[step] = reference.toSnapshot({ includeTombstones: false });
      await room.flush();
    }
  };
  // Three writes, then the table as it was before the byte bound.
  const first = backend.open();
  const before = new Room({ roomId: 'm', storage: first.storage, logger: silentLogger });
  await before.load();
  await write(before, 1, 3);
  await before.close();
  await first.close();
  await backend.dropColumns();
  expect(await backend.columns()).not.toContain('end_bytes');

  const second = backend.open({ maxBytes: 4_000 });
  const room = new Room({ roomId: 'm', storage: second.storage, logger: silentLogger });
  await room.load();
  try {
    expect(await backend.columns()).toEqual(expect.arrayContaining(['bytes', 'end_bytes']));
    // The old rows count 0 bytes: everything is still readable.
    expect(await room.historyHorizon()).toBe(0);
    for (let clock = 0; clock <= 3; clock++) {
      const past = await room.readAt(clock);
      expect(
        ClockedDocument.fromComponents(past.timestamp, past.components).toSnapshot({
          includeTombstones: false,
        }),
      ).toEqual(states[clock]);
    }
    // Three entries of about 1,100 bytes fit in 4,000, four do not: the old rows go first.
    await write(room, 4, 10);
    expect(await room.historyHorizon()).toBe(7);
    for (let clock = 7; clock <= 10; clock++) {
      const past = await room.readAt(clock);
      expect(
        ClockedDocument.fromComponents(past.timestamp, past.components).toSnapshot({
          includeTombstones: false,
        }),
      ).toEqual(states[clock]);
    }
  } finally {
    await room.close();
    await second.close();
  }
}

describe('history byte columns migration (H3)', () => {
  it('[H3] SQLite: an old history table gains the byte columns, keeps its rows, then applies the byte bound', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-history-bytes-'));
    dirs.push(dir);
    const file = path.join(dir, 'rooms.db');
    const columns = () => {
      const db = new Database(file);
      try {
        return db
          .prepare<[], { name: string }>('PRAGMA table_info(history)')
          .all()
          .map((c) => c.name);
      } finally {
        db.close();
      }
    };
    await run({
      open: (history) => {
        const sqlite = new SqliteStorage(history ? { path: file, history } : { path: file });
        return { storage: sqlite.forRoom('m'), close: () => sqlite.close() };
      },
      dropColumns: async () => {
        const db = new Database(file);
        db.exec('ALTER TABLE history DROP COLUMN bytes; ALTER TABLE history DROP COLUMN end_bytes;');
        db.close();
      },
      columns: async () => columns(),
    });
  });

  it.skipIf(pgUnreachable !== null && !IN_CI)(
    '[H3] PostgreSQL: an old history table gains the byte columns, keeps its rows, then applies the byte bound',
    async () => {
      if (pgUnreachable !== null) expect.fail(`${HOW_TO_RUN_POSTGRES} (${pgUnreachable})`);
      const prefix = `hb_${process.pid}_${Math.random().toString(36).slice(2, 10)}_`;
      prefixes.push(prefix);
      await run({
        open: (history) => {
          const postgres = new PostgresStorage({
            connectionString: TEST_PG_URL,
            tablePrefix: prefix,
            ...(history ? { history } : {}),
          });
          return { storage: postgres.forRoom('m'), close: () => postgres.close() };
        },
        dropColumns: () =>
          withPostgres(async (client) => {
            await client.query(`ALTER TABLE ${prefix}history DROP COLUMN bytes, DROP COLUMN end_bytes`);
          }),
        columns: () =>
          withPostgres(async (client) => {
            const result = await client.query<{ column_name: string }>(
              'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
              [`${prefix}history`],
            );
            return result.rows.map((row) => row.column_name);
          }),
      });
    },
  );
});
