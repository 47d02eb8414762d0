import { ClockedDocument } from '../document/clocked-document.js';
import { type HistoryEntry, hasHistory } from './history.js';
import { buildRoomExport, type RoomExport } from './room-export.js';
import { RoomImportError } from './room-import-error.js';
import { isIncrementalStorage, type Storage, type StoredRoom } from './storage.js';

/** Entries asked of a history per page while exporting it. */
const HISTORY_PAGE = 1_000;

/**
 * Reads a room from its storage as a room opening it would (validated like
 * a load): every component with stamps and tombstones, and the clock. A room
 * never stored reads as empty at clock 0.
 */
export async function readStoredRoom(storage: Storage): Promise<StoredRoom> {
  if (isIncrementalStorage(storage) && storage.loadComponents) {
    const stored = await storage.loadComponents();
    if (stored === null) return { timestamp: 0, components: [] };
    const document = ClockedDocument.fromComponents(stored.timestamp, stored.components);
    return { timestamp: document.clock, components: document.readComponents(document.keys()) };
  }
  const snapshot = await storage.load();
  if (snapshot === null) return { timestamp: 0, components: [] };
  const document = ClockedDocument.fromSnapshot(snapshot);
  return { timestamp: document.clock, components: document.readComponents(document.keys()) };
}

/** True when a stored room was never written (clock 0, no keys). */
export function isEmptyRoom(stored: StoredRoom): boolean {
  return stored.timestamp === 0 && stored.components.length === 0;
}

/**
 * Every history entry of a room, oldest first, or undefined when its storage
 * keeps none. Bounded by the storage's retention (its `maxEntries`).
 */
export async function readAllHistory(
  list: (options: { before?: number; limit: number }) => Promise<{
    entries: HistoryEntry[];
    nextBefore: number | null;
  }>,
): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await list(before === undefined ? { limit: HISTORY_PAGE } : { before, limit: HISTORY_PAGE });
    entries.push(...page.entries);
    if (page.nextBefore === null || page.entries.length === 0) break;
    before = page.nextBefore;
  }
  return entries.reverse();
}

/**
 * Exports a room straight from its storage (the server need not run; the
 * room must not be open elsewhere while this reads). Closes nothing: the
 * caller owns `storage`.
 */
export async function exportFromStorage(
  storage: Storage,
  roomId: string,
  options: { withHistory?: boolean } = {},
): Promise<RoomExport> {
  const stored = await readStoredRoom(storage);
  let history: HistoryEntry[] | undefined;
  if (options.withHistory && hasHistory(storage)) {
    history = await readAllHistory((page) => storage.listHistory(page));
  }
  return buildRoomExport(roomId, stored, history);
}

/**
 * Writes a validated export into a room's storage, stamps and clock as they
 * are (SPEC H4), in one commit (one snapshot for a storage without commits).
 * A storage that keeps history starts it at the imported clock: earlier
 * states are not in the file, and tombstones older than that horizon may be
 * compacted by the storage as SPEC H3 allows.
 * Closes the storage afterwards, as a closing room would.
 *
 * @throws {@link RoomImportError} `room_not_empty` when the room holds data;
 *   nothing is then written.
 */
export async function importIntoStorage(storage: Storage, file: RoomExport): Promise<void> {
  const existing = await readStoredRoom(storage);
  if (!isEmptyRoom(existing)) {
    throw new RoomImportError(
      'room_not_empty',
      `the room already holds data (clock ${existing.timestamp}, ${existing.components.length} keys); import into a new or empty room, or delete this one first`,
    );
  }
  if (file.clock === 0 && file.components.length === 0) return;
  if (!isIncrementalStorage(storage)) {
    const document = ClockedDocument.fromComponents(file.clock, file.components);
    await storage.save(document.toSnapshot({ includeTombstones: true }));
    return;
  }
  // No history write: the states before the imported clock are not known
  // here, so the room's history starts at the import (its horizon).
  await storage.commit({ timestamp: file.clock, components: file.components });
  storage.closingAfterFlush?.();
  if (storage.wantsSnapshot?.('close')) {
    const document = ClockedDocument.fromComponents(file.clock, file.components);
    await storage.save(document.toSnapshot({ includeTombstones: true }));
  }
  await storage.close?.();
}
