import type { ComponentData, Patch } from 'canvas-store-protocol';

/**
 * Visits every (key, component) write of a list of patches in order, telling
 * whether the key was already written earlier in the same list. Keys of one
 * patch object are distinct, so only a list of several needs the key set.
 */
export function eachWrite(
  patches: readonly Patch[],
  visit: (key: string, data: ComponentData, again: boolean) => void,
): void {
  const seen = patches.length > 1 ? new Set<string>() : null;
  for (const patch of patches) {
    for (const key of Object.keys(patch)) {
      const again = seen?.has(key) ?? false;
      seen?.add(key);
      visit(key, patch[key] as ComponentData, again);
    }
  }
}
