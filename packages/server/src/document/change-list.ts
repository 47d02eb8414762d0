import type { ComponentEntry } from './component-entry.js';

/**
 * Keys ordered by the clock of their last write, oldest first: the index by stamp.
 *
 * Every write stamps with the newest clock, so moving the written key to the
 * newest end keeps the list sorted. "Everything written after T" is then a walk
 * from the newest end that stops at the first key with `lastStamp <= T`: its cost
 * is proportional to what changed after T, not to the size of the document.
 */
export class ChangeList {
  private newest: ComponentEntry | null = null;
  private oldest: ComponentEntry | null = null;

  /** Moves (or adds) `entry` to the newest end. */
  touch(entry: ComponentEntry): void {
    if (this.newest === entry) return;
    this.unlink(entry);
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    this.newest = entry;
    if (!this.oldest) this.oldest = entry;
  }

  /** Visits entries written after `since`, newest first. */
  *writtenAfter(since: number): Generator<ComponentEntry> {
    for (let entry = this.newest; entry !== null && entry.lastStamp > since; entry = entry.older) {
      yield entry;
    }
  }

  /** Removes `entry` from the list if it is linked. */
  private unlink(entry: ComponentEntry): void {
    const { older, newer } = entry;
    if (older) older.newer = newer;
    if (newer) newer.older = older;
    if (this.oldest === entry) this.oldest = newer;
    if (this.newest === entry) this.newest = older;
    entry.older = null;
    entry.newer = null;
  }
}
