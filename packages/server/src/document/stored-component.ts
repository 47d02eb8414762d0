import type { ComponentData, FieldTimestamps } from '../protocol/messages.js';

/** The whole current state of one key as a commit stores it; a tombstone is `{ _exists: false }`. */
export interface StoredComponent {
  key: string;
  data: ComponentData;
  stamps: FieldTimestamps;
}
