/**
 * A storage that opens while another process commits (a cluster node joining,
 * a restart beside a running server) must not queue for table locks when the
 * schema is already current (SPEC K2, B5): `ALTER TABLE ... ADD COLUMN IF NOT
 * EXISTS` takes a table's exclusive lock even when the column exists, and the
 * schema transaction holding one table's lock while waiting for another's
 * deadlocked with concurrent commits ("deadlock detected" seen in the fencing
 * test under load).
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../../src/index.js';
import { dropStorageTables, IN_CI, postgresProblem, TEST_PG_URL } from '../helpers/postgres.js';

const unreachable = await postgresProblem();
const prefix = `schemalock_${process.pid}_${Math.random().toString(36).slice(2, 8)}_`;
const storages: PostgresStorage[] = [];

function open(): PostgresStorage {
  const storage = new PostgresStorage({ connectionString: TEST_PG_URL, tablePrefix: prefix });
  storages.push(storage);
  return storage;
}

afterAll(async () => {
  await Promise.all(storages.map((storage) => storage.close()));
  if (unreachable === null) await dropStorageTables(prefix);
});

/** Backends waiting for a lock on one of this test's tables. */
async function lockWaiters(observer: pg.Client): Promise<number> {
  const { rows } = await observer.query<{ waiting: string }>(
    `SELECT count(*) AS waiting FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
      WHERE NOT l.granted AND starts_with(c.relname, $1)`,
    [prefix],
  );
  return Number(rows[0]?.waiting ?? 0);
}

describe.skipIf(unreachable !== null && !IN_CI)('PostgreSQL schema set-up beside running commits', () => {
  it('[K2][B5] a storage opening while another holds commit locks on every table waits for none of them', async () => {
    // The first storage creates the schema and stores a room.
    const first = open().forRoom('busy');
    await first.load();
    await first.commit({ timestamp: 1, components: [{ key: 'a', data: { v: 1 }, stamps: { v: 1 } }] });

    // A commit in progress elsewhere: row-exclusive locks on every table of the schema.
    const holder = new pg.Client({ connectionString: TEST_PG_URL });
    const observer = new pg.Client({ connectionString: TEST_PG_URL });
    await Promise.all([holder.connect(), observer.connect()]);
    try {
      await holder.query('BEGIN');
      for (const table of ['rooms', 'components', 'history', 'room_epochs']) {
        await holder.query(`LOCK TABLE ${prefix}${table} IN ROW EXCLUSIVE MODE`);
      }
      // A second process opens a room now. Either its load finishes, or it queues for a lock
      // that the open transaction holds (and would never get before that transaction ends).
      const second = open().forRoom('other');
      let outcome: 'loaded' | 'failed' | undefined;
      const loading = second.load().then(
        () => {
          outcome = 'loaded';
        },
        () => {
          outcome = 'failed';
        },
      );
      let waiters = 0;
      while (outcome === undefined && waiters === 0) {
        waiters = await lockWaiters(observer);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(waiters).toBe(0);
      await loading;
      expect(outcome).toBe('loaded');
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await Promise.all([holder.end(), observer.end()]);
    }
  });
});
