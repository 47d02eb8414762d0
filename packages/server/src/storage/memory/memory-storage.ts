import type { RoomSnapshot } from '../../document/room-snapshot.js';
import type { Storage } from '../storage.js';

/**
 * Keeps the last saved snapshot in memory, for tests and throwaway rooms.
 * Nothing survives the process. Saved snapshots are deep-copied so later
 * changes to the room cannot alter what was "stored".
 *
 * @example
 * ```ts
 * const room = new Room({ storage: new MemoryStorage() });
 * ```
 */
export class MemoryStorage implements Storage {
  private snapshot: RoomSnapshot | null = null;

  async load(): Promise<RoomSnapshot | null> {
    return this.snapshot === null ? null : structuredClone(this.snapshot);
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    this.snapshot = structuredClone(snapshot);
  }
}
