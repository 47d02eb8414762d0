import type { Logger } from './logger.js';

/** Default quiet time between two lines of one kind. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

/**
 * Logs a warning at most once per interval for each kind of event, with how
 * many were left out since the last line: an attacker who trips a limit a
 * million times must not fill the disk or spend the CPU on log lines (SPEC B6-B8).
 *
 * @example
 * ```ts
 * const log = new RateLimitedLog(logger);
 * log.warn('room-key-quota', { roomId }, 'write refused: room key quota'); // logged
 * log.warn('room-key-quota', { roomId }, 'write refused: room key quota'); // counted, not logged
 * ```
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_LOG_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Logs `message` unless a line of this `kind` was logged less than an interval ago. */
  warn(kind: string, context: object, message: string): void {
    const now = this.now();
    const previous = this.last.get(kind);
    if (previous && now - previous.at < this.intervalMs) {
      previous.suppressed++;
      return;
    }
    const suppressed = previous?.suppressed ?? 0;
    this.last.set(kind, { at: now, suppressed: 0 });
    this.logger.warn({ ...context, limit: kind, suppressed }, message);
  }
}
