import {
  mergeEdit,
  mergeInto,
  mergePendingPatches,
  type PendingEdit,
  type PendingPatch,
} from './merge-patches.js';

/**
 * Edits not yet sent: while online they wait here until the next send (one
 * frame per batch); while offline they accumulate, merged into one patch with
 * deletion then re-creation semantics, and go out in the `reconnect` frame.
 * Writes that were sent but not acknowledged when the socket dropped come
 * back here in front of the newer edits (at-least-once delivery).
 */
export class OfflineBuffer {
  private patch: PendingPatch = new Map();

  /** Number of keys with unsent edits. */
  get size(): number {
    return this.patch.size;
  }

  /** The unsent edit of `key`, if any. */
  get(key: string): PendingEdit | undefined {
    return this.patch.get(key);
  }

  /** The buffered edits (read only; use the methods to change them). */
  get current(): ReadonlyMap<string, PendingEdit> {
    return this.patch;
  }

  /** Adds a newer edit of one key. */
  add(key: string, edit: PendingEdit): void {
    this.patch.set(key, mergeEdit(this.patch.get(key), edit));
  }

  /** Adds newer edits. */
  addAll(patch: PendingPatch): void {
    mergeInto(this.patch, patch);
  }

  /** Puts edits that are older than everything buffered (requeued or reloaded ones) in front. */
  prepend(...older: readonly PendingPatch[]): void {
    if (older.every((patch) => patch.size === 0)) return;
    this.patch = mergePendingPatches(...older, this.patch);
  }

  /** Removes the edits of `keys` (they were sent). */
  remove(keys: Iterable<string>): void {
    for (const key of keys) this.patch.delete(key);
  }

  /** Removes and returns everything buffered. */
  take(): PendingPatch {
    const taken = this.patch;
    this.patch = new Map();
    return taken;
  }
}
