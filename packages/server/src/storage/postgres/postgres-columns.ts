import type pg from 'pg';

/**
 * Adds the columns of `wanted` (name to SQL type) that `table` lacks, inside
 * the caller's schema transaction.
 *
 * `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` takes the table's exclusive lock
 * even when the column is already there. A process starting while others
 * commit would then queue behind their row locks on one table while holding
 * the exclusive lock of another, and deadlock with a commit that takes the
 * tables in the other order. Looking in the catalog first means a schema that
 * is already current takes no table lock at all; only the one-time upgrade of
 * an older database alters anything.
 */
export async function addMissingColumns(
  client: pg.PoolClient,
  table: string,
  wanted: Readonly<Record<string, string>>,
): Promise<void> {
  const { rows } = await client.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1`,
    [table],
  );
  const present = new Set(rows.map((row) => row.column_name));
  for (const [name, type] of Object.entries(wanted)) {
    if (!present.has(name))
      await client.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${name} ${type}`);
  }
}
