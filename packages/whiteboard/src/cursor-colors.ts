import { USER_COLORS } from './palette.js';

/** A small, stable string hash (FNV-1a, 32 bits). */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    value ^= text.charCodeAt(i);
    value = Math.imul(value, 0x01000193) >>> 0;
  }
  return value;
}

/**
 * Gives each present client a colour of {@link USER_COLORS}, the same on
 * every page and distinct while there are no more clients than colours.
 *
 * Every page knows the same set of present client ids (its own plus the
 * others' presence), so each computes the same answer without coordination:
 * clients are taken in id order, each gets its preferred colour (a hash of
 * its id) or, when that is taken, the next free one. A newcomer only moves
 * the colour of a client whose preferred colour it takes, which is rare.
 */
export function assignUserColors(clientIds: Iterable<string>): Map<string, string> {
  const ids = [...new Set(clientIds)].sort();
  const taken = new Set<number>();
  const colors = new Map<string, string>();
  const count = USER_COLORS.length;
  for (const id of ids) {
    const preferred = hash(id) % count;
    let slot = preferred;
    // With more clients than colours every slot is taken: reuse the preferred one.
    for (let step = 0; step < count; step++) {
      const candidate = (preferred + step) % count;
      if (!taken.has(candidate)) {
        slot = candidate;
        break;
      }
    }
    taken.add(slot);
    colors.set(id, USER_COLORS[slot] as string);
  }
  return colors;
}
