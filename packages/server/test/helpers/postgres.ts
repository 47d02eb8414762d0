import pg from 'pg';

/** The database the PostgreSQL tests use. */
export const TEST_PG_URL = process.env.CANVAS_STORE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True in CI, where every suite must run: an unreachable database fails instead of skipping. */
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/** What to tell a contributor whose machine has no PostgreSQL. */
export const HOW_TO_RUN_POSTGRES =
  `PostgreSQL not reachable at ${TEST_PG_URL}; start a local server ` +
  '(e.g. `pg_ctlcluster <version> main start`, or ' +
  '`docker run --rm -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16`) ' +
  'or set CANVAS_STORE_TEST_PG_URL to a reachable database';

/** Why the test database cannot be used, or null when it answers a query. */
export async function postgresProblem(url: string = TEST_PG_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `work` on a dedicated connection to the test database. */
export async function withPostgres<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops the tables a PostgresStorage with `tablePrefix` creates. */
export function dropStorageTables(tablePrefix: string): Promise<void> {
  return withPostgres(async (client) => {
    await client.query(
      `DROP TABLE IF EXISTS ${tablePrefix}rooms, ${tablePrefix}components, ${tablePrefix}room_epochs`,
    );
  });
}
