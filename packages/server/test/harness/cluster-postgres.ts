/**
 * A fresh PostgreSQL database per cluster test file (or per `npm run cluster`
 * run), created beside the test database named by CANVAS_STORE_TEST_PG_URL
 * (CI: postgres://postgres@127.0.0.1:5432/test), so the nodes of one file
 * start from an empty store and never see another file's rooms.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_PG_URL } from '../helpers/postgres.js';

/** A database made for one run; {@link drop} removes it. */
export interface RunDatabase {
  /** Its connection URL (what the nodes get as `--postgres-url`). */
  readonly url: string;
  readonly name: string;
  /** Runs one query against it (for assertions on what is stored). */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops the database, closing the connections left to it. */
  drop(): Promise<void>;
}

/** `url` with its database name replaced by `name`. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function onBase<T>(baseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates an empty database `<base name>_<label>_<random>` next to `baseUrl`'s.
 * The label must be lowercase letters, digits and `_` (it becomes part of an identifier).
 */
export async function createRunDatabase(label: string, baseUrl: string = TEST_PG_URL): Promise<RunDatabase> {
  if (!/^[a-z0-9_]{1,20}$/.test(label)) throw new Error(`bad database label ${JSON.stringify(label)}`);
  const base = new URL(baseUrl).pathname.slice(1) || 'postgres';
  const name = `${base}_${label}_${randomBytes(4).toString('hex')}`;
  await onBase(baseUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(baseUrl, name);
  return {
    url,
    name,
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      return onBase(url, async (client) => (await client.query<R>(text, values)).rows);
    },
    async drop() {
      // FORCE (PostgreSQL 13+) ends the sessions of nodes that were SIGKILLed or SIGSTOPped.
      await onBase(baseUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Creates the database `name` next to `baseUrl`'s unless it exists; returns its URL. */
export async function ensureDatabase(name: string, baseUrl: string): Promise<string> {
  if (!/^[a-z0-9_]{1,60}$/.test(name)) throw new Error(`bad database name ${JSON.stringify(name)}`);
  await onBase(baseUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  });
  return withDatabase(baseUrl, name);
}
