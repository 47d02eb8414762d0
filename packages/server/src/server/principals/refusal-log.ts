import type { ServerLogger } from '../observability/create-logger.js';

/** How often one kind of refusal is logged at most. */
const DEFAULT_INTERVAL_MS = 10_000;

/**
 * Logs refusals at a bounded rate (SPEC B8): the first refusal of each kind
 * is logged at once, later ones at most once per interval with the number
 * left out since. A flood of refused connections cannot flood the logs.
 *
 * @example
 * ```ts
 * const log = new RefusalLog(logger);
 * log.refused('rooms-per-address', { address });
 * ```
 */
export class RefusalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: ServerLogger,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs (or counts for later) one refusal of kind `limit`. */
  refused(limit: string, fields: Record<string, unknown>): void {
    const now = this.now();
    const entry = this.last.get(limit);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(limit, { at: now, suppressed: 0 });
    this.logger.warn({ ...fields, limit, suppressed }, 'refused: limit reached');
  }
}
