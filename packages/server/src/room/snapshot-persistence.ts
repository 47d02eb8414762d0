import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { Storage } from '../storage/storage.js';
import type { Logger } from './logger.js';

const MAX_RETRY_DELAY_MS = 30_000;
const FIRST_RETRY_DELAY_MS = 500;

/** Counters of one room's persistence, for metrics and tests. */
export interface PersistenceStats {
  saves: number;
  saveFailures: number;
}

/**
 * Throttled whole-snapshot saving for storages with only `load`/`save` (the
 * seed interface): at most one save per `throttleMs`, one at a time. A failed
 * save is logged, counted and retried with backoff; it never throws out of a
 * timer (SPEC P4).
 */
export class SnapshotPersistence {
  readonly stats: PersistenceStats = { saves: 0, saveFailures: 0 };
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private lastSaveAt = Number.NEGATIVE_INFINITY;
  private consecutiveFailures = 0;
  private stopped = false;

  constructor(
    private readonly storage: Storage,
    private readonly takeSnapshot: () => RoomSnapshot,
    private readonly throttleMs: number,
    private readonly logger: Logger,
    private readonly logContext: object,
  ) {}

  /** Notes that the document changed; a save follows within the throttle. */
  markDirty(): void {
    this.dirty = true;
    this.schedule();
  }

  /** Saves now if anything changed (waiting for a save in flight first); rejects if the save fails. */
  async flush(): Promise<void> {
    this.clearTimer();
    if (this.inFlight) await this.inFlight.catch(() => {});
    if (this.dirty) await this.saveOnce();
  }

  /** Stops scheduling saves (after a final flush, when closing). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private schedule(delayMs?: number): void {
    if (this.stopped || this.timer || this.inFlight) return;
    const delay = delayMs ?? Math.max(0, this.lastSaveAt + this.throttleMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.saveOnce().catch(() => {
        // Already logged and counted; the retry is scheduled by saveOnce.
      });
    }, delay);
    this.timer.unref();
  }

  private saveOnce(): Promise<void> {
    const snapshot = this.takeSnapshot();
    this.dirty = false;
    const attempt = (async () => {
      try {
        await this.storage.save(snapshot);
        this.stats.saves++;
        this.consecutiveFailures = 0;
      } catch (error) {
        this.dirty = true;
        this.stats.saveFailures++;
        this.consecutiveFailures++;
        this.logger.error(
          { ...this.logContext, err: error, failures: this.consecutiveFailures },
          'room save failed',
        );
        throw error;
      } finally {
        this.lastSaveAt = performance.now();
      }
    })();
    this.inFlight = attempt;
    attempt.then(
      () => {
        this.inFlight = null;
        if (this.dirty) this.schedule();
      },
      () => {
        this.inFlight = null;
        const backoff = FIRST_RETRY_DELAY_MS * 2 ** Math.min(this.consecutiveFailures - 1, 10);
        this.schedule(Math.min(MAX_RETRY_DELAY_MS, backoff));
      },
    );
    return attempt;
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
