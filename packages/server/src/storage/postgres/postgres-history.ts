import type pg from 'pg';
import { type ComponentRow, parseComponentRow } from '../component-rows.js';
import {
  HistoryHorizonError,
  type HistoryPage,
  type HistoryRetention,
  type HistoryWrite,
} from '../history.js';
import { ageCheckDue, type CompactionState, sweepDue } from '../history-compaction.js';
import { checkLimit, horizonOf } from '../history-log.js';
import {
  type HistoryRow,
  historyPage,
  historyRowValues,
  stateAt,
  TOMBSTONE_DATA,
  type UndoRow,
} from '../history-rows.js';
import type { StoredRoom } from '../storage.js';

/** The history columns of one commit's statement, as parallel arrays for `unnest`. */
export interface HistoryColumns {
  clocks: number[];
  times: number[];
  authors: string[];
  keys: string[];
  previous: string[];
}

/** Runs one query on the pool or on a transaction's client. */
type Query = pg.Pool | pg.PoolClient;

/**
 * History of the rooms of one PostgreSQL database (SPEC H1, H3): a
 * `<prefix>history` table, one row per write, inserted by the commit's own
 * statement. Past states are rebuilt from the live rows by undoing the
 * writes after them, read in one repeatable-read transaction.
 */
export class PostgresHistory {
  readonly keeps: boolean;

  constructor(
    readonly table: string,
    private readonly rooms: string,
    private readonly components: string,
    readonly retention: HistoryRetention,
    private readonly now: () => number,
  ) {
    this.keeps = retention.maxEntries > 0;
  }

  /** The idempotent DDL (run inside the schema transaction). */
  schema(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.table} (
      room_id TEXT NOT NULL,
      clock BIGINT NOT NULL,
      time BIGINT NOT NULL,
      client_id TEXT NOT NULL,
      keys TEXT NOT NULL,
      previous TEXT NOT NULL,
      PRIMARY KEY (room_id, clock)
    )`;
  }

  /** The rows a commit at clock `timestamp` inserts: its writes inside the count retention. */
  columns(writes: readonly HistoryWrite[] | undefined, timestamp: number): HistoryColumns {
    const out: HistoryColumns = { clocks: [], times: [], authors: [], keys: [], previous: [] };
    if (!this.keeps || !writes) return out;
    const now = this.now();
    const cut = this.countCut(timestamp);
    for (const write of writes) {
      if (write.clock <= cut) continue;
      const [clock, time, author, keys, previous] = historyRowValues(write, now);
      out.clocks.push(clock);
      out.times.push(time);
      out.authors.push(author);
      out.keys.push(keys);
      out.previous.push(previous);
    }
    return out;
  }

  /** Entries at or below this clock are beyond the count retention (entries are contiguous clocks). */
  countCut(timestamp: number): number {
    return timestamp - this.retention.maxEntries;
  }

  /**
   * Age retention and the tombstone sweep (SPEC H3), after a commit. Not
   * part of the commit's durability: a failure is left for the next commit.
   */
  async compact(pool: pg.Pool, roomId: string, state: CompactionState): Promise<void> {
    const now = this.now();
    let expired = false;
    if (ageCheckDue(state, this.retention, now)) {
      const cutoff = now - this.retention.maxAgeMs;
      const oldest = await pool.query<{ time: string }>(
        `SELECT time FROM ${this.table} WHERE room_id = $1 ORDER BY clock LIMIT 1`,
        [roomId],
      );
      const oldestTime = oldest.rows[0]?.time;
      if (oldestTime !== undefined && Number(oldestTime) < cutoff) {
        await pool.query(
          `DELETE FROM ${this.table} WHERE room_id = $1 AND clock <=
             (SELECT max(clock) FROM ${this.table} WHERE room_id = $1 AND time < $2)`,
          [roomId, cutoff],
        );
        expired = true;
      }
    }
    // With history off, tombstones are kept (SPEC D9): the horizon then is the clock itself.
    if (this.keeps && sweepDue(state, expired)) {
      const horizon = await this.horizon(pool, roomId);
      await pool.query(
        `DELETE FROM ${this.components} WHERE room_id = $1 AND data = $2
           AND ((stamps::jsonb) ->> '_exists')::bigint <= $3`,
        [roomId, TOMBSTONE_DATA, horizon],
      );
    }
  }

  async list(
    pool: pg.Pool,
    roomId: string,
    options: { before?: number; limit: number },
  ): Promise<HistoryPage> {
    const limit = checkLimit(options.limit);
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    const rows = await pool.query<HistoryRow>(
      `SELECT clock, time, client_id, keys FROM ${this.table}
       WHERE room_id = $1 AND clock < $2 ORDER BY clock DESC LIMIT $3`,
      [roomId, before, limit + 1],
    );
    return historyPage(roomId, rows.rows, limit);
  }

  async horizon(query: Query, roomId: string): Promise<number> {
    return (await this.bounds(query, roomId)).horizon;
  }

  /** The horizon and the stored room clock, in one query. */
  private async bounds(query: Query, roomId: string): Promise<{ horizon: number; clock: number }> {
    const result = await query.query<{ oldest: string | null; newest: string | null; clock: string | null }>(
      `SELECT min(h.clock) AS oldest, max(h.clock) AS newest,
              (SELECT clock FROM ${this.rooms} WHERE room_id = $1) AS clock
       FROM ${this.table} h WHERE h.room_id = $1`,
      [roomId],
    );
    const row = result.rows[0];
    const nullable = (value: string | null | undefined) =>
      value === null || value === undefined ? null : Number(value);
    const clock = nullable(row?.clock) ?? 0;
    return { horizon: horizonOf(nullable(row?.oldest), nullable(row?.newest), clock), clock };
  }

  /**
   * The state at `clock`, read in one repeatable-read transaction so a
   * concurrent commit cannot tear it. From the caller's `live` state when it
   * is not ahead of the stored clock (only the history rows in
   * `(clock, live.timestamp]` are read), else from the stored components.
   */
  async readAt(pool: pg.Pool, roomId: string, clock: number, live?: StoredRoom): Promise<StoredRoom> {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { horizon, clock: storedClock } = await this.bounds(client, roomId);
      if (clock < horizon) throw new HistoryHorizonError(clock, horizon);
      let start: StoredRoom;
      if (live && live.timestamp <= storedClock) start = live;
      else {
        const components = await client.query<ComponentRow>(
          `SELECT key, data, stamps, deleted_at FROM ${this.components} WHERE room_id = $1`,
          [roomId],
        );
        start = {
          timestamp: storedClock,
          components: components.rows.map((row) => parseComponentRow(roomId, row)),
        };
      }
      const after = await client.query<UndoRow>(
        `SELECT clock, keys, previous FROM ${this.table}
         WHERE room_id = $1 AND clock > $2 AND clock <= $3 ORDER BY clock`,
        [roomId, clock, start.timestamp],
      );
      await client.query('COMMIT');
      return stateAt(roomId, start, after.rows, clock, horizon);
    } catch (error) {
      // A refused clock is an answer, not a broken connection: the client goes back to the pool.
      if (!(error instanceof HistoryHorizonError))
        failure = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release(failure);
    }
  }
}
