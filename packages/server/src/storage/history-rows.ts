import type { StoredComponent } from '../document/stored-component.js';
import { type HistoryEntry, HistoryHorizonError, type HistoryPage, type HistoryWrite } from './history.js';
import { withRestored } from './history-log.js';
import type { StoredRoom } from './storage.js';
import { StorageCorruptError } from './storage-corrupt-error.js';

/** The columns of a history row that a page of history needs (PostgreSQL returns BIGINT as text). */
export interface HistoryRow {
  clock: number | string;
  time: number | string;
  client_id: string;
  keys: string;
}

/** The columns of a history row that undoing needs. */
export interface UndoRow {
  clock: number | string;
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

/** A history page (newest first) from up to `limit + 1` rows read newest first; previous states are not read. */
export function historyPage(roomId: string, rows: readonly HistoryRow[], limit: number): HistoryPage {
  const entries = rows.slice(0, limit).map(
    (row): HistoryEntry => ({
      clock: Number(row.clock),
      time: Number(row.time),
      clientId: row.client_id,
      keys: parseJson<string[]>(roomId, row, row.keys),
    }),
  );
  const last = entries[entries.length - 1];
  return { entries, nextBefore: rows.length > limit && last ? last.clock : null };
}

/**
 * The state at `clock` from `live` and the history rows after `clock`,
 * oldest first (an iterable, so SQLite can stream them). A key's state at
 * `clock` is the one from before the oldest write after `clock` that touched
 * it, so a row whose keys were all met already is skipped without parsing its
 * previous states (most of the work when many writes edit the same keys).
 */
export function stateAt(
  roomId: string,
  live: StoredRoom,
  rowsOldestFirst: Iterable<UndoRow>,
  clock: number,
  horizon: number,
): StoredRoom {
  if (clock < horizon) throw new HistoryHorizonError(clock, horizon);
  const restored = new Map<string, StoredComponent | null>();
  for (const row of rowsOldestFirst) {
    const rowClock = Number(row.clock);
    if (rowClock <= clock || rowClock > live.timestamp) continue;
    const fresh = parseJson<string[]>(roomId, row, row.keys).filter((key) => !restored.has(key));
    if (fresh.length === 0) continue;
    const previous = new Map<string, StoredComponent>();
    for (const component of parseJson<StoredComponent[]>(roomId, row, row.previous)) {
      previous.set(component.key, component);
    }
    for (const key of fresh) restored.set(key, previous.get(key) ?? null);
  }
  return withRestored(live, restored, clock);
}

function parseJson<T>(roomId: string, row: { clock: number | string }, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new StorageCorruptError(`room ${roomId}: history entry ${row.clock} is not valid JSON`, error);
  }
}

/** The tombstone stamp condition of compaction, as a JSON text check both databases understand. */
export const TOMBSTONE_DATA = '{"_exists":false}';
