import type { ComponentData, FieldTimestamps } from 'canvas-store-protocol';

/** The whole current state of one key as a commit stores it; a tombstone is `{ _exists: false }`. */
export interface StoredComponent {
  key: string;
  data: ComponentData;
  stamps: FieldTimestamps;
  /**
   * For a live key re-created after a deletion: that deletion's stamp (SPEC D7).
   * Absent when the key was never deleted; optional, so older stores load.
   */
  deletedAt?: number;
}
