import { deletedAtColumn } from '../component-rows.js';
import type { StoredComponent } from '../storage.js';

/** The tables one commit statement writes. */
export interface CommitTables {
  components: string;
  rooms: string;
  history: string;
  epochs: string;
}

/** What the commit statement returns (PostgreSQL returns counts and BIGINT as text). */
export interface CommitStatementRow {
  fenced: boolean;
  tail: string;
  counted: string;
  sized: string;
}

/**
 * One statement, hence one transaction and one round trip per batch: the
 * components, the clock, the batch's history rows and the count and byte retention
 * (SPEC H1, H3). Each history row gets the room's running byte total up to it
 * (the total before the batch, read in the same statement, plus the batch's own
 * running sum); the rows older than the count bound, or starting more than
 * maxBytes before the batch's end, are deleted by the same statement. In cluster mode
 * the room's epoch row is read FOR SHARE in the same statement (SPEC K2), so a
 * concurrent claim either waits for this write (and its owner then loads it) or
 * commits first (and this statement, re-reading the row, writes nothing).
 *
 * Parameters: $1 room, $2-$4 component keys, data, stamps, $5 clock,
 * $6 deletion stamps, $7-$11 history clocks, times, authors, keys, previous
 * states, $12 the count cut, $13 sizes, $14 running sums within the batch,
 * $15 the batch's first history clock, $16 the batch's bytes, $17 maxBytes,
 * $18 (fenced only) the epoch.
 */
export function commitStatement(tables: CommitTables, fenced: boolean): string {
  const guard = fenced ? 'WHERE EXISTS (SELECT 1 FROM fence)' : '';
  return `WITH ${fenced ? `fence AS (SELECT epoch FROM ${tables.epochs} WHERE room_id = $1 AND epoch = $18 FOR SHARE),` : ''}
       tail AS (
         SELECT coalesce((SELECT end_bytes FROM ${tables.history}
           WHERE room_id = $1 AND clock < $15 ORDER BY clock DESC LIMIT 1), 0) AS total
       ),
       written AS (
         INSERT INTO ${tables.components} (room_id, key, data, stamps, deleted_at)
         SELECT $1, k, d, s, x FROM unnest($2::text[], $3::text[], $4::text[], $6::bigint[]) AS t(k, d, s, x)
         ${guard}
         ON CONFLICT (room_id, key) DO UPDATE
         SET data = excluded.data, stamps = excluded.stamps, deleted_at = excluded.deleted_at
       ), recorded AS (
         INSERT INTO ${tables.history} (room_id, clock, time, client_id, keys, previous, bytes, end_bytes)
         SELECT $1, c, t, a, k, p, b, (SELECT total FROM tail) + e
         FROM unnest($7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $13::bigint[], $14::bigint[])
           AS h(c, t, a, k, p, b, e)
         ${guard}
         ON CONFLICT (room_id, clock) DO UPDATE
         SET time = excluded.time, client_id = excluded.client_id, keys = excluded.keys, previous = excluded.previous,
             bytes = excluded.bytes, end_bytes = excluded.end_bytes
       ), trimmed AS (
         DELETE FROM ${tables.history} WHERE room_id = $1 AND clock < greatest($12::bigint + 1, coalesce(
           (SELECT clock FROM ${tables.history} WHERE room_id = $1
              AND end_bytes - bytes >= (SELECT total FROM tail) + $16 - $17 ORDER BY clock LIMIT 1),
           $15))
         ${fenced ? 'AND EXISTS (SELECT 1 FROM fence)' : ''}
         RETURNING clock
       ), clock AS (
         INSERT INTO ${tables.rooms} (room_id, clock) SELECT $1, $5 ${guard}
         ON CONFLICT (room_id) DO UPDATE SET clock = excluded.clock
       )
       SELECT ${fenced ? 'NOT EXISTS (SELECT 1 FROM fence)' : 'false'} AS fenced, (SELECT total FROM tail) AS tail,
         (SELECT count(*) FROM trimmed WHERE clock <= $12) AS counted,
         (SELECT count(*) FROM trimmed WHERE clock > $12) AS sized`;
}

/** The component columns of a commit or a snapshot, as parallel arrays for `unnest`. */
export function componentColumns(components: readonly StoredComponent[]): {
  keys: string[];
  data: string[];
  stamps: string[];
  deletedAt: Array<number | null>;
} {
  const keys: string[] = [];
  const data: string[] = [];
  const stamps: string[] = [];
  const deletedAt: Array<number | null> = [];
  for (const component of components) {
    keys.push(component.key);
    data.push(JSON.stringify(component.data));
    stamps.push(JSON.stringify(component.stamps));
    deletedAt.push(deletedAtColumn(component));
  }
  return { keys, data, stamps, deletedAt };
}
