import type { StoredComponent } from '../document/stored-component.js';
import { HistoryHorizonError, type HistoryPage, type HistoryWrite } from './history.js';
import { historyEntry, undoWrites } from './history-log.js';
import type { StoredRoom } from './storage.js';
import { StorageCorruptError } from './storage-corrupt-error.js';

/** One history row as the database backends keep it (PostgreSQL returns BIGINT as text). */
export interface HistoryRow {
  clock: number | string;
  time: number | string;
  client_id: string;
  keys: string;
  previous: string;
}

/** The column values of one write: clock, time, client id, keys (JSON), previous states (JSON). */
export function historyRowValues(
  write: HistoryWrite,
  time: number,
): [number, number, string, string, string] {
  return [write.clock, time, write.clientId, JSON.stringify(write.keys), JSON.stringify(write.previous)];
}

/** Parses one history row; an unreadable one throws {@link StorageCorruptError}. */
export function parseHistoryRow(roomId: string, row: HistoryRow): HistoryWrite {
  try {
    return {
      clock: Number(row.clock),
      time: Number(row.time),
      clientId: row.client_id,
      keys: JSON.parse(row.keys) as string[],
      previous: JSON.parse(row.previous) as StoredComponent[],
    };
  } catch (error) {
    throw new StorageCorruptError(`room ${roomId}: history entry ${row.clock} is not valid JSON`, error);
  }
}

/** A history page (newest first) from up to `limit + 1` rows read newest first. */
export function historyPage(roomId: string, rows: readonly HistoryRow[], limit: number): HistoryPage {
  const entries = rows.slice(0, limit).map((row) => historyEntry(parseHistoryRow(roomId, row)));
  const last = entries[entries.length - 1];
  return { entries, nextBefore: rows.length > limit && last ? last.clock : null };
}

/** The state at `clock` from the live room and the rows after `clock`, newest first. */
export function stateAt(
  roomId: string,
  live: StoredRoom,
  rowsNewestFirst: readonly HistoryRow[],
  clock: number,
  horizon: number,
): StoredRoom {
  if (clock < horizon) throw new HistoryHorizonError(clock, horizon);
  return undoWrites(
    live,
    rowsNewestFirst.map((row) => parseHistoryRow(roomId, row)),
    clock,
  );
}

/** The tombstone stamp condition of compaction, as a JSON text check both databases understand. */
export const TOMBSTONE_DATA = '{"_exists":false}';
