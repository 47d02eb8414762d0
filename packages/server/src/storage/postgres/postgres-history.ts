import type pg from 'pg';
import { type ComponentRow, parseComponentRow } from '../component-rows.js';
import {
  HistoryHorizonError,
  type HistoryPage,
  type HistoryRetention,
  type HistoryWrite,
} from '../history.js';
import { historyWriteBytes } from '../history-bytes.js';
import { ageCheckDue, type CompactionState, IdleCursor, sweepDue } from '../history-compaction.js';
import { checkLimit, horizonOf, retentionKeeps } from '../history-log.js';
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
  /** Each row's size ({@link historyWriteBytes}). */
  bytes: number[];
  /** Each row's running total within the batch; the statement adds the room's total before it. */
  ends: number[];
  /** The batch's first clock: the room's total is read from the row before it. */
  first: number;
}

/** What one commit statement tells about history. */
export interface CommitHistoryResult {
  /** The running total (bytes) after the batch's newest row; null when the batch recorded none. */
  newestEnd: number | null;
  /** The bytes of the batch's own rows. */
  batchBytes: number;
  /** Rows deleted by count retention. */
  counted: number;
  /** Rows deleted by byte retention. */
  sized: number;
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
  private readonly idleCursor = new IdleCursor();

  constructor(
    readonly table: string,
    private readonly rooms: string,
    private readonly components: string,
    readonly retention: HistoryRetention,
    private readonly now: () => number,
  ) {
    this.keeps = retentionKeeps(retention);
  }

  /** The idempotent DDL of the table (run inside the schema transaction). */
  schema(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.table} (
      room_id TEXT NOT NULL,
      clock BIGINT NOT NULL,
      time BIGINT NOT NULL,
      client_id TEXT NOT NULL,
      keys TEXT NOT NULL,
      previous TEXT NOT NULL,
      bytes BIGINT NOT NULL DEFAULT 0,
      end_bytes BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (room_id, clock)
    )`;
  }

  /** Columns added after the table's first release, for {@link addMissingColumns}: tables from before the byte bound gain them; their old rows count 0 bytes. */
  readonly addedColumns: Readonly<Record<string, string>> = {
    bytes: 'BIGINT NOT NULL DEFAULT 0',
    end_bytes: 'BIGINT NOT NULL DEFAULT 0',
  };

  /** The rows a commit at clock `timestamp` inserts: its writes inside the count retention. */
  columns(writes: readonly HistoryWrite[] | undefined, timestamp: number): HistoryColumns {
    const out: HistoryColumns = {
      clocks: [],
      times: [],
      authors: [],
      keys: [],
      previous: [],
      bytes: [],
      ends: [],
      first: timestamp + 1,
    };
    if (!this.keeps || !writes) return out;
    const now = this.now();
    const cut = this.countCut(timestamp);
    let end = 0;
    for (const write of writes) {
      if (write.clock <= cut) continue;
      const [clock, time, author, keys, previous] = historyRowValues(write, now);
      const bytes = historyWriteBytes(write);
      end += bytes;
      if (out.clocks.length === 0) out.first = clock;
      out.clocks.push(clock);
      out.times.push(time);
      out.authors.push(author);
      out.keys.push(keys);
      out.previous.push(previous);
      out.bytes.push(bytes);
      out.ends.push(end);
    }
    return out;
  }

  /** Entries at or below this clock are beyond the count retention (entries are contiguous clocks). */
  countCut(timestamp: number): number {
    return timestamp - this.retention.maxEntries;
  }

  /**
   * Byte and age retention and the tombstone sweep (SPEC H3), after a
   * commit. Not part of the commit's durability: a failure is left for the
   * next commit.
   */
  async compact(
    pool: pg.Pool,
    roomId: string,
    state: CompactionState,
    committed: CommitHistoryResult,
  ): Promise<void> {
    const now = this.now();
    const { onDropped } = this.retention;
    if (committed.counted > 0) onDropped?.('count', committed.counted);
    if (committed.sized > 0) onDropped?.('bytes', committed.sized);
    // The commit statement trimmed the older rows; only a batch larger than the bound by
    // itself leaves some of its own rows to drop (a statement does not see the rows it inserts).
    if (committed.newestEnd !== null && committed.batchBytes > this.retention.maxBytes) {
      await this.trimBytes(pool, roomId, committed.newestEnd);
    }
    let expired = false;
    if (ageCheckDue(state, this.retention, now)) {
      const cutoff = now - this.retention.maxAgeMs;
      const oldest = await pool.query<{ time: string }>(
        `SELECT time FROM ${this.table} WHERE room_id = $1 ORDER BY clock LIMIT 1`,
        [roomId],
      );
      const oldestTime = oldest.rows[0]?.time;
      // expire() sweeps tombstones itself when entries expired.
      if (oldestTime !== undefined && Number(oldestTime) < cutoff)
        expired = await this.expire(pool, roomId, cutoff);
    }
    // With history off, tombstones are kept (SPEC D9). An expiry has just swept them (and resets the count).
    if (this.keeps && sweepDue(state, expired) && !expired) await this.sweepTombstones(pool, roomId);
  }

  /**
   * Retention by bytes after the commit: keeps the newest rows whose sizes
   * add up to at most `maxBytes`. Each row holds the room's running total up
   * to it, so the rows to drop are those that start before `newestEnd -
   * maxBytes`; the primary key walks them oldest first and stops at the
   * first row kept.
   */
  private async trimBytes(pool: pg.Pool, roomId: string, newestEnd: number): Promise<void> {
    const result = await pool.query(
      `DELETE FROM ${this.table} WHERE room_id = $1 AND clock < coalesce(
         (SELECT clock FROM ${this.table} WHERE room_id = $1 AND end_bytes - bytes >= $2 ORDER BY clock LIMIT 1),
         (SELECT max(clock) FROM ${this.table} WHERE room_id = $1) + 1)`,
      [roomId, newestEnd - this.retention.maxBytes],
    );
    if (result.rowCount) this.retention.onDropped?.('bytes', result.rowCount);
  }

  /**
   * One step of idle compaction (SPEC H3): one query reads the oldest entry
   * time of up to `budget` rooms after the previous step's last one (an
   * index lookup each); the rooms holding expired entries get age retention
   * and the tombstone sweep.
   *
   * @returns the rooms whose history was compacted.
   */
  async compactIdle(pool: pg.Pool, budget: number): Promise<string[]> {
    if (!this.keeps) return [];
    const rows = await this.idleCursor.next(budget, async (after) => {
      const result = await pool.query<{ room_id: string; oldest: string | null }>(
        `SELECT r.room_id,
           (SELECT time FROM ${this.table} h WHERE h.room_id = r.room_id ORDER BY clock LIMIT 1) AS oldest
         FROM ${this.rooms} r WHERE r.room_id > $1 ORDER BY r.room_id LIMIT $2`,
        [after, budget],
      );
      return result.rows;
    });
    const cutoff = this.now() - this.retention.maxAgeMs;
    const compacted: string[] = [];
    for (const { room_id: roomId, oldest } of rows) {
      if (oldest === null || Number(oldest) >= cutoff) continue;
      await this.expire(pool, roomId, cutoff);
      compacted.push(roomId);
    }
    return compacted;
  }

  /** Deletes a room's entries committed before `cutoff` (a prefix of its clocks); true when some were. */
  private async expire(pool: pg.Pool, roomId: string, cutoff: number): Promise<boolean> {
    const deleted = await pool.query(
      `DELETE FROM ${this.table} WHERE room_id = $1 AND clock <=
         (SELECT max(clock) FROM ${this.table} WHERE room_id = $1 AND time < $2)`,
      [roomId, cutoff],
    );
    if (!deleted.rowCount) return false;
    this.retention.onDropped?.('age', deleted.rowCount);
    // With history off, tombstones are kept (SPEC D9): the horizon then is the clock itself.
    if (this.keeps) await this.sweepTombstones(pool, roomId);
    return true;
  }

  /** Drops the room's tombstones at or before its horizon (SPEC H3). */
  private async sweepTombstones(pool: pg.Pool, roomId: string): Promise<void> {
    const horizon = await this.horizon(pool, roomId);
    await pool.query(
      `DELETE FROM ${this.components} WHERE room_id = $1 AND data = $2
         AND ((stamps::jsonb) ->> '_exists')::bigint <= $3`,
      [roomId, TOMBSTONE_DATA, horizon],
    );
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
