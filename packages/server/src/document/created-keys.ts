import type { ComponentData, Patch } from 'canvas-store-protocol';

/**
 * Keys that `patches` create with `_exists: true` without deleting them first
 * in the same patches, or undefined when none.
 *
 * A reconnecting client whose frame creates a key that way holds that
 * incarnation as it wrote it, so its reconnect reply must not lead with a
 * tombstone for it (SPEC D7): the published client keeps tombstones through
 * its in-flight masking while dropping its own fields, and would delete what
 * it just made. A frame that deletes and then re-creates a key (a client that
 * replaces a component) still gets the tombstone: such a client expects to
 * drop the old incarnation, and the published client never sends that shape.
 */
export function createdBy(patches: readonly Patch[]): Set<string> | undefined {
  let keys: Set<string> | undefined;
  let deleted: Set<string> | undefined;
  for (const patch of patches) {
    for (const key of Object.keys(patch)) {
      const exists = (patch[key] as ComponentData)._exists;
      if (exists === false) {
        deleted ??= new Set();
        deleted.add(key);
        keys?.delete(key);
      } else if (exists === true && !deleted?.has(key)) {
        keys ??= new Set();
        keys.add(key);
      }
    }
  }
  return keys;
}
