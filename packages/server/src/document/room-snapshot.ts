import type { ComponentData, FieldTimestamps } from 'canvas-store-protocol';

/**
 * Complete room state for persistence and restore: the clock, every component
 * and the stamp of each of its fields.
 *
 * What {@link Room.getSnapshot} returns holds live components only; what a
 * room hands to {@link Storage.save} also holds tombstones (`{ _exists: false }`
 * stamped with the deletion's clock) so that deletions survive restarts (SPEC D9).
 */
export interface RoomSnapshot {
  timestamp: number;
  state: Record<string, ComponentData>;
  timestamps: Record<string, FieldTimestamps>;
  /**
   * Optional: for live keys re-created after a deletion, the stamp of that
   * deletion (SPEC D7), so a reconnect reply can tell clients that held the
   * old incarnation to drop it. Present in what a room saves when any key has
   * one; a snapshot without it (an older save, a user's own storage) is valid.
   */
  deletions?: Record<string, number>;
}
