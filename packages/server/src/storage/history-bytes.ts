import { componentBytes, nameBytes, valueBytes } from '../document/value-size.js';
import type { HistoryWrite } from './history.js';

/** What an entry costs besides its keys and previous states: clock and time (8 each), author, punctuation. */
const ENTRY_OVERHEAD_BYTES = 32;

/**
 * The bytes one history write counts against `maxBytes` (SPEC H3): measured
 * like the room's stored bytes (SPEC B7, `value-size.ts`), so about its JSON
 * size with 8 bytes per number. The previous states dominate: each is a whole
 * component (key, fields, stamps) as it was before the write.
 */
export function historyWriteBytes(write: HistoryWrite): number {
  let size = ENTRY_OVERHEAD_BYTES + write.clientId.length;
  for (const key of write.keys) size += nameBytes(key);
  for (const component of write.previous) {
    size += componentBytes(component.key, component.data) + valueBytes(component.stamps);
    if (component.deletedAt !== undefined) size += 8;
  }
  return size;
}
