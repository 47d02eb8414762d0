import type { RoomSnapshot } from '../document/room-snapshot.js';

/**
 * Pluggable persistence of one room (SPEC P1). `load` returns the saved
 * snapshot or `null` for a room never saved; it must throw (never return
 * `null`) when the data exists but cannot be read, so the room is not opened
 * empty (SPEC P3). `save` receives snapshots that include tombstones.
 *
 * @example
 * ```ts
 * const storage: Storage = {
 *   async load() { return JSON.parse(await readFile('room.json', 'utf8')); },
 *   async save(snapshot) { await writeFile('room.json', JSON.stringify(snapshot)); },
 * };
 * ```
 */
export interface Storage {
  load(): Promise<RoomSnapshot | null>;
  save(snapshot: RoomSnapshot): Promise<void>;
}
