import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { StoredComponent } from '../document/stored-component.js';
import type { ComponentData, FieldTimestamps } from '../protocol/messages.js';
import type { StoredRoom } from '../room/storage.js';
import { StorageCorruptError } from './storage-corrupt-error.js';

/** One stored component as database backends keep it: JSON text columns. */
export interface ComponentRow {
  key: string;
  data: string;
  stamps: string;
}

/** Every component of a snapshot (tombstones included), for a whole-room save. */
export function snapshotComponents(snapshot: RoomSnapshot): StoredComponent[] {
  return Object.keys(snapshot.state).map((key) => ({
    key,
    data: snapshot.state[key] as ComponentData,
    stamps: snapshot.timestamps[key] ?? {},
  }));
}

/** Parses one database row; unparseable rows throw {@link StorageCorruptError} (SPEC P3). */
export function parseComponentRow(roomId: string, row: ComponentRow): StoredComponent {
  try {
    return {
      key: row.key,
      data: JSON.parse(row.data) as ComponentData,
      stamps: JSON.parse(row.stamps) as FieldTimestamps,
    };
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
  for (const component of room.components) {
    state[component.key] = component.data;
    timestamps[component.key] = component.stamps;
  }
  return { timestamp: room.timestamp, state, timestamps };
}
