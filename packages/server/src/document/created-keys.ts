import type { ComponentData, Patch } from '../protocol/messages.js';

/**
 * Keys that `patches` write with `_exists: true`, or undefined when none.
 * A reconnecting client that sent such a write holds that incarnation as it
 * wrote it, so its reconnect reply must not lead with a tombstone for it
 * (SPEC D7): the published client keeps tombstones through its in-flight
 * masking while dropping its own fields, and would delete what it just made.
 */
export function createdBy(patches: readonly Patch[]): Set<string> | undefined {
  let keys: Set<string> | undefined;
  for (const patch of patches) {
    for (const key of Object.keys(patch)) {
      if ((patch[key] as ComponentData)._exists !== true) continue;
      keys ??= new Set();
      keys.add(key);
    }
  }
  return keys;
}
