import type { Patch } from 'canvas-store-protocol';
import type { ComponentEntry } from './component-entry.js';
import { eachWrite } from './each-write.js';
import { nameBytes, valueBytes, writtenBytes } from './value-size.js';

/** What a write would add to a document's key count and stored bytes (SPEC B7). */
export interface WriteProjection {
  /** Keys the write would create (tombstones included: they count until compacted). */
  newKeys: number;
  /** Change of stored bytes; negative when the write frees more than it adds. */
  bytesDelta: number;
}

const TOMBSTONE_FIELDS = nameBytes('_exists') + 5;

/**
 * Projects a validated write onto the current entries without applying it.
 * The result never underestimates: a key written twice in one frame counts
 * every later write as pure growth. A new key is one that does not exist yet
 * and is created by `_exists: true` (SPEC D5 as amended) or marked deleted by
 * `_exists: false`; every other write to an absent key still counts its bytes.
 * Work is proportional to the frame, since stored values' sizes are remembered.
 */
export function projectWrite(
  patches: readonly Patch[],
  lookup: (key: string) => ComponentEntry | undefined,
): WriteProjection {
  let newKeys = 0;
  let bytesDelta = 0;
  eachWrite(patches, (key, data, again) => {
    const entry = again ? undefined : lookup(key);
    if (!again && !entry && (data._exists === true || data._exists === false)) newKeys++;
    if (data._exists === false) {
      bytesDelta += nameBytes(key) + 2 + TOMBSTONE_FIELDS - (entry?.bytes ?? 0);
      return;
    }
    if (!entry || entry.tombstone) {
      bytesDelta += nameBytes(key) + 2 - (entry?.bytes ?? 0);
      for (const field in data) bytesDelta += nameBytes(field) + writtenBytes(data[field]);
      return;
    }
    for (const field in data) {
      bytesDelta += nameBytes(field) + writtenBytes(data[field]);
      if (field in entry.fields) bytesDelta -= nameBytes(field) + valueBytes(entry.fields[field]);
    }
  });
  return { newKeys, bytesDelta };
}
