import type { ComponentData, FieldTimestamps } from 'canvas-store-protocol';
import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { StoredComponent } from '../document/stored-component.js';
import type { RoomHistory } from './history.js';
import type { CommitBatch, IncrementalStorage, StoredRoom } from './storage.js';
import { StorageCorruptError } from './storage-corrupt-error.js';

/**
 * One stored component as database backends keep it: JSON text columns, and
 * the deletion stamp of a re-created key (SPEC D7), null when it has none.
 */
export interface ComponentRow {
  key: string;
  data: string;
  stamps: string;
  deleted_at: number | string | null;
}

/** Every component of a snapshot (tombstones included), for a whole-room save. */
export function snapshotComponents(snapshot: RoomSnapshot): StoredComponent[] {
  const deletions = snapshot.deletions;
  return Object.keys(snapshot.state).map((key) => {
    const component: StoredComponent = {
      key,
      data: snapshot.state[key] as ComponentData,
      stamps: snapshot.timestamps[key] ?? {},
    };
    const deletedAt = deletions && Object.hasOwn(deletions, key) ? deletions[key] : undefined;
    if (deletedAt !== undefined) component.deletedAt = deletedAt;
    return component;
  });
}

/** The `deleted_at` column value of a component: its deletion stamp, or null. */
export function deletedAtColumn(component: StoredComponent): number | null {
  return component.deletedAt ?? null;
}

/** Parses one database row; unparseable rows throw {@link StorageCorruptError} (SPEC P3). */
export function parseComponentRow(roomId: string, row: ComponentRow): StoredComponent {
  try {
    const component: StoredComponent = {
      key: row.key,
      data: JSON.parse(row.data) as ComponentData,
      stamps: JSON.parse(row.stamps) as FieldTimestamps,
    };
    // PostgreSQL returns BIGINT as a string; the document validates the value.
    if (row.deleted_at !== null && row.deleted_at !== undefined) component.deletedAt = Number(row.deleted_at);
    return component;
  } catch (error) {
    throw new StorageCorruptError(`room ${roomId}: component ${row.key} is not valid JSON`, error);
  }
}

/**
 * The seed's snapshot form of a stored room, in null-prototype records so a
 * stored key can never reach `Object.prototype`.
 */
export function storedRoomSnapshot(room: StoredRoom): RoomSnapshot {
  const state = Object.create(null) as Record<string, ComponentData>;
  const timestamps = Object.create(null) as Record<string, FieldTimestamps>;
  let deletions: Record<string, number> | undefined;
  for (const component of room.components) {
    state[component.key] = component.data;
    timestamps[component.key] = component.stamps;
    if (component.deletedAt !== undefined) {
      deletions ??= Object.create(null) as Record<string, number>;
      deletions[component.key] = component.deletedAt;
    }
  }
  const snapshot: RoomSnapshot = { timestamp: room.timestamp, state, timestamps };
  if (deletions) snapshot.deletions = deletions;
  return snapshot;
}

/** What a database backend does for one room; {@link databaseRoomStorage} adapts it to the storage interface. */
interface RoomRecords {
  loadRoom(): Promise<StoredRoom | null>;
  replaceRoom(snapshot: RoomSnapshot): Promise<void>;
  commitRoom(batch: CommitBatch): Promise<void>;
  /** The room's history (SPEC H1), when the backend keeps one. */
  history?: RoomHistory;
}

/**
 * The {@link IncrementalStorage} of one room of a database backend: loads
 * straight into components, and in the seed's snapshot form for `load`.
 */
export function databaseRoomStorage(
  roomId: string,
  records: RoomRecords,
): IncrementalStorage | (IncrementalStorage & RoomHistory) {
  if (typeof roomId !== 'string' || roomId === '') throw new TypeError('roomId must be a non-empty string');
  const history = records.history;
  return {
    ...(history && {
      keepsHistory: () => history.keepsHistory(),
      listHistory: (options: { before?: number; limit: number }) => history.listHistory(options),
      readAt: (clock: number, live?: StoredRoom) => history.readAt(clock, live),
      horizon: () => history.horizon(),
    }),
    load: async () => {
      const stored = await records.loadRoom();
      return stored && storedRoomSnapshot(stored);
    },
    loadComponents: () => records.loadRoom(),
    save: (snapshot) => records.replaceRoom(snapshot),
    commit: (batch) => records.commitRoom(batch),
  };
}
