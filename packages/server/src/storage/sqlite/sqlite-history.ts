import type Database from 'better-sqlite3';
import { type ComponentRow, parseComponentRow } from '../component-rows.js';
import type { HistoryPage, HistoryRetention } from '../history.js';
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
import type { CommitBatch, StoredRoom } from '../storage.js';

export { type CompactionState, newCompactionState } from '../history-compaction.js';

/**
 * History of the rooms of one SQLite database (SPEC H1, H3): a `history`
 * table, one row per write (clock, time, author, keys, the keys' previous
 * states as JSON), written by the commit's own transaction. Past states are
 * rebuilt from the live rows by undoing the writes after them.
 */
export class SqliteHistory {
  private readonly statements;
  /** False when retention keeps no entries: writes are not recorded. */
  readonly keeps: boolean;
  private readonly idleCursor = new IdleCursor();

  constructor(
    private readonly db: Database.Database,
    private readonly retention: HistoryRetention,
    private readonly now: () => number,
  ) {
    this.keeps = retentionKeeps(retention);
    // Idempotent: databases from before history gain the table on their first start.
    db.exec(`
      CREATE TABLE IF NOT EXISTS history (
        room_id TEXT NOT NULL,
        clock INTEGER NOT NULL,
        time INTEGER NOT NULL,
        client_id TEXT NOT NULL,
        keys TEXT NOT NULL,
        previous TEXT NOT NULL,
        bytes INTEGER NOT NULL DEFAULT 0,
        end_bytes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, clock)
      ) WITHOUT ROWID;
    `);
    addSizeColumns(db);
    this.statements = {
      insert: db.prepare<[string, number, number, string, string, string, number, number]>(
        `INSERT OR REPLACE INTO history (room_id, clock, time, client_id, keys, previous, bytes, end_bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      endBefore: db.prepare<[string, number], { end: number }>(
        'SELECT end_bytes AS end FROM history WHERE room_id = ? AND clock < ? ORDER BY clock DESC LIMIT 1',
      ),
      deleteUpTo: db.prepare<[string, number]>('DELETE FROM history WHERE room_id = ? AND clock <= ?'),
      // The PRIMARY KEY walks the room's rows oldest first and stops at the first one kept:
      // the work is the rows dropped, plus one.
      trimBytes: db.prepare<[string, string, number, string]>(
        `DELETE FROM history WHERE room_id = ? AND clock < coalesce(
           (SELECT clock FROM history WHERE room_id = ? AND end_bytes - bytes >= ? ORDER BY clock LIMIT 1),
           (SELECT max(clock) FROM history WHERE room_id = ?) + 1)`,
      ),
      oldestTime: db.prepare<[string], { time: number }>(
        'SELECT time FROM history WHERE room_id = ? ORDER BY clock LIMIT 1',
      ),
      newestExpired: db.prepare<[string, number], { clock: number | null }>(
        'SELECT max(clock) AS clock FROM history WHERE room_id = ? AND time < ?',
      ),
      bounds: db.prepare<[string], { oldest: number | null; newest: number | null }>(
        'SELECT min(clock) AS oldest, max(clock) AS newest FROM history WHERE room_id = ?',
      ),
      clock: db.prepare<[string], { clock: number }>('SELECT clock FROM rooms WHERE room_id = ?'),
      sweepTombstones: db.prepare<[string, string, number]>(
        `DELETE FROM components WHERE room_id = ? AND data = ? AND json_extract(stamps, '$._exists') <= ?`,
      ),
      page: db.prepare<[string, number, number], HistoryRow>(
        `SELECT clock, time, client_id, keys FROM history
         WHERE room_id = ? AND clock < ? ORDER BY clock DESC LIMIT ?`,
      ),
      after: db.prepare<[string, number, number], UndoRow>(
        `SELECT clock, keys, previous FROM history
         WHERE room_id = ? AND clock > ? AND clock <= ? ORDER BY clock`,
      ),
      components: db.prepare<[string], ComponentRow>(
        'SELECT key, data, stamps, deleted_at FROM components WHERE room_id = ?',
      ),
      deleteRoom: db.prepare<[string]>('DELETE FROM history WHERE room_id = ?'),
      idleRooms: db.prepare<[string, number], { room_id: string; oldest: number | null }>(
        `SELECT r.room_id, (SELECT time FROM history h WHERE h.room_id = r.room_id ORDER BY clock LIMIT 1) AS oldest
         FROM rooms r WHERE r.room_id > ? ORDER BY r.room_id LIMIT ?`,
      ),
    };
  }

  /** Records a batch's writes and applies retention; runs inside the commit's transaction. */
  record(roomId: string, batch: CommitBatch, compaction: CompactionState): void {
    const now = this.now();
    const { onDropped } = this.retention;
    const first = batch.writes?.[0];
    if (this.keeps && batch.writes && first) {
      // Each row holds its size and the room's running total up to it (end_bytes), so the
      // bytes kept are the newest end minus the oldest start: retention by bytes needs no sum.
      let end = this.statements.endBefore.get(roomId, first.clock)?.end ?? 0;
      for (const write of batch.writes) {
        const bytes = historyWriteBytes(write);
        end += bytes;
        this.statements.insert.run(roomId, ...historyRowValues(write, now), bytes, end);
      }
      const trimmed = this.statements.trimBytes.run(roomId, roomId, end - this.retention.maxBytes, roomId);
      if (trimmed.changes > 0) onDropped?.('bytes', trimmed.changes);
    }
    // Entries are contiguous clocks, so retention by count is one range delete.
    const counted = this.statements.deleteUpTo.run(roomId, batch.timestamp - this.retention.maxEntries);
    if (counted.changes > 0) onDropped?.('count', counted.changes);
    let expired = false;
    if (ageCheckDue(compaction, this.retention, now)) {
      const cutoff = now - this.retention.maxAgeMs;
      const oldest = this.statements.oldestTime.get(roomId);
      if (oldest && oldest.time < cutoff) {
        const newest = this.statements.newestExpired.get(roomId, cutoff)?.clock;
        if (newest !== null && newest !== undefined) {
          const aged = this.statements.deleteUpTo.run(roomId, newest);
          if (aged.changes > 0) onDropped?.('age', aged.changes);
          expired = true;
        }
      }
    }
    // With history off, tombstones are kept (SPEC D9): the horizon then is the clock itself.
    if (this.keeps && sweepDue(compaction, expired)) {
      this.statements.sweepTombstones.run(roomId, TOMBSTONE_DATA, this.horizon(roomId));
    }
  }

  /**
   * One step of idle compaction (SPEC H3): visits up to `budget` rooms after
   * the previous step's last one and applies age retention and the
   * tombstone sweep to those holding expired entries. Each visit is two
   * index lookups, plus the deletions when something expired.
   *
   * @returns the rooms whose history was compacted.
   */
  async compactIdle(budget: number): Promise<string[]> {
    if (!this.keeps) return [];
    const rows = await this.idleCursor.next(budget, (after) => this.statements.idleRooms.all(after, budget));
    if (!this.db.open) return [];
    const cutoff = this.now() - this.retention.maxAgeMs;
    const compacted: string[] = [];
    for (const { room_id: roomId, oldest } of rows) {
      if (oldest === null || oldest >= cutoff) continue;
      this.db.transaction(() => this.expire(roomId, cutoff))();
      compacted.push(roomId);
    }
    return compacted;
  }

  /** Deletes a room's entries committed before `cutoff` (a prefix of its clocks), then its old tombstones. */
  private expire(roomId: string, cutoff: number): void {
    const newest = this.statements.newestExpired.get(roomId, cutoff)?.clock;
    if (newest === null || newest === undefined) return;
    const aged = this.statements.deleteUpTo.run(roomId, newest);
    if (aged.changes > 0) this.retention.onDropped?.('age', aged.changes);
    this.statements.sweepTombstones.run(roomId, TOMBSTONE_DATA, this.horizon(roomId));
  }

  list(roomId: string, options: { before?: number; limit: number }): HistoryPage {
    const limit = checkLimit(options.limit);
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    return historyPage(roomId, this.statements.page.all(roomId, before, limit + 1), limit);
  }

  horizon(roomId: string): number {
    const clock = this.statements.clock.get(roomId)?.clock ?? 0;
    const { oldest, newest } = this.statements.bounds.get(roomId) ?? { oldest: null, newest: null };
    return horizonOf(oldest, newest, clock);
  }

  /**
   * The state at `clock`, read in one transaction so a concurrent commit
   * cannot tear it. From the caller's `live` state when it is not ahead of
   * the stored clock (only the history rows in `(clock, live.timestamp]` are
   * read), else from the stored components.
   */
  readAt(roomId: string, clock: number, live?: StoredRoom): StoredRoom {
    return this.db.transaction(() => {
      const horizon = this.horizon(roomId);
      const storedClock = this.statements.clock.get(roomId)?.clock ?? 0;
      const start: StoredRoom =
        live && live.timestamp <= storedClock
          ? live
          : {
              timestamp: storedClock,
              components: this.statements.components.all(roomId).map((row) => parseComponentRow(roomId, row)),
            };
      // Streamed: the rows are not all held at once.
      const rows = clock < horizon ? [] : this.statements.after.iterate(roomId, clock, start.timestamp);
      return stateAt(roomId, start, rows, clock, horizon);
    })();
  }

  deleteRoom(roomId: string): void {
    this.statements.deleteRoom.run(roomId);
  }
}

/** Databases whose history table predates the byte bound gain its columns; their old rows count 0 bytes. */
function addSizeColumns(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(history)').all();
  for (const name of ['bytes', 'end_bytes']) {
    if (!columns.some((column) => column.name === name)) {
      db.exec(`ALTER TABLE history ADD COLUMN ${name} INTEGER NOT NULL DEFAULT 0`);
    }
  }
}
