import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { StoredComponent } from '../document/stored-component.js';
import type { ComponentData, FieldTimestamps } from '../protocol/messages.js';
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

/**
 * Collects database rows into a snapshot, in null-prototype records so a
 * stored key can never reach `Object.prototype`. Unparseable rows throw
 * {@link StorageCorruptError} (SPEC P3).
 */
export class SnapshotBuilder {
  private readonly state = Object.create(null) as Record<string, ComponentData>;
  private readonly timestamps = Object.create(null) as Record<string, FieldTimestamps>;

  constructor(private readonly roomId: string) {}

  add(row: ComponentRow): void {
    try {
      this.state[row.key] = JSON.parse(row.data) as ComponentData;
      this.timestamps[row.key] = JSON.parse(row.stamps) as FieldTimestamps;
    } catch (error) {
      throw new StorageCorruptError(`room ${this.roomId}: component ${row.key} is not valid JSON`, error);
    }
  }

  build(clock: number): RoomSnapshot {
    return { timestamp: clock, state: this.state, timestamps: this.timestamps };
  }
}
