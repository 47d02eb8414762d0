import type { HistoryRetention } from './history.js';

/**
 * Tombstones older than the horizon are swept at a room's first commit after
 * it opened and then every this many commits (and after age retention drops
 * entries): the sweep visits every tombstone of the room, so it is amortised.
 */
const TOMBSTONE_SWEEP_EVERY_COMMITS = 1024;
/** Age retention is checked at most this often per room (an extra query when entries expire). */
const AGE_CHECK_MAX_INTERVAL_MS = 60_000;
/**
 * Idle compaction (SPEC H3): retention otherwise runs as a room commits, so
 * the server also visits the stored rooms, this many per step, one step every
 * {@link IDLE_COMPACTION_INTERVAL_MS}, and applies age retention to rooms
 * nobody writes (count and byte retention only change when a room writes).
 */
export const IDLE_ROOMS_PER_STEP = 64;
/** How often the server takes one idle compaction step. */
export const IDLE_COMPACTION_INTERVAL_MS = 5_000;

/** Where the next idle compaction step starts: room ids in order, wrapping around. */
export class IdleCursor {
  private after = '';

  /**
   * Runs `page(after)` (up to `budget` room ids greater than `after`, in
   * order), starting over from the first room when the last step reached the end.
   */
  async next<T extends { room_id: string }>(
    budget: number,
    page: (after: string) => Promise<T[]> | T[],
  ): Promise<T[]> {
    let rows = await page(this.after);
    if (rows.length === 0 && this.after !== '') {
      this.after = '';
      rows = await page(this.after);
    }
    const last = rows[rows.length - 1];
    this.after = rows.length < budget || !last ? '' : last.room_id;
    return rows;
  }
}

/** What a database backend remembers about one open room's compaction (SPEC H3). */
export interface CompactionState {
  /** When age retention was last checked (the storage's clock). */
  ageCheckedAt: number;
  /** Commits until the next tombstone sweep; 0 sweeps at the next commit. */
  commitsToSweep: number;
}

/** The state of a room just opened: the first commit checks age and sweeps tombstones. */
export function newCompactionState(): CompactionState {
  return { ageCheckedAt: Number.NEGATIVE_INFINITY, commitsToSweep: 0 };
}

/** True when age retention is due at `now`; marks it checked. */
export function ageCheckDue(state: CompactionState, retention: HistoryRetention, now: number): boolean {
  const interval = Math.min(AGE_CHECK_MAX_INTERVAL_MS, retention.maxAgeMs / 10);
  if (now - state.ageCheckedAt < interval) return false;
  state.ageCheckedAt = now;
  return true;
}

/** True when a tombstone sweep is due (or `force`d); counts the commit. */
export function sweepDue(state: CompactionState, force: boolean): boolean {
  if (force || state.commitsToSweep <= 0) {
    state.commitsToSweep = TOMBSTONE_SWEEP_EVERY_COMMITS;
    return true;
  }
  state.commitsToSweep--;
  return false;
}
