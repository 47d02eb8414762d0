import type { Logger } from '../../room/logger.js';
import { IDLE_COMPACTION_INTERVAL_MS, IDLE_ROOMS_PER_STEP } from '../../storage/history-compaction.js';
import type { StorageBackend } from '../../storage/storage-backend.js';

/**
 * Takes one step of idle history compaction (SPEC H3) every
 * `intervalMs`: retention otherwise runs as rooms commit, so without it the
 * old history of a room nobody writes would stay forever. Each step visits
 * at most `budget` rooms (bounded work), one step at a time; a failed step
 * is logged and the next one tries again.
 */
export class HistorySweeper {
  private timer: NodeJS.Timeout | null = null;
  private step: Promise<void> | null = null;

  constructor(
    private readonly backend: StorageBackend,
    private readonly logger: Logger,
    private readonly intervalMs: number = IDLE_COMPACTION_INTERVAL_MS,
    private readonly budget: number = IDLE_ROOMS_PER_STEP,
  ) {}

  /** Starts the steps; nothing to do for a backend without idle compaction (file). */
  start(): void {
    if (this.timer || !this.backend.compactIdleHistory) return;
    this.timer = setInterval(() => this.takeStep(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the steps and waits for the one running, so storage can close after it. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.step;
  }

  private takeStep(): void {
    const compact = this.backend.compactIdleHistory?.bind(this.backend);
    if (this.step || !compact) return;
    this.step = compact(this.budget)
      .then((rooms) => {
        if (rooms.length > 0) this.logger.debug({ rooms: rooms.length }, 'idle rooms: old history compacted');
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, 'idle history compaction failed; the next step tries again');
      })
      .finally(() => {
        this.step = null;
      });
  }
}
