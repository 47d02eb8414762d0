import type { Logger } from './logger.js';

/** Default length of the window in which each kind of event gets its `burst` lines. */
const DEFAULT_LOG_INTERVAL_MS = 10_000;

/** Options of {@link RateLimitedLog}. */
interface RateLimitedLogOptions {
  /** Length of each kind's window. Default 10 s. */
  intervalMs?: number;
  /** Lines per kind and window. Default 1. */
  burst?: number;
  /** Default `warn`. */
  level?: 'warn' | 'info';
  /** The field that names the kind in each line. Default `limit`. */
  kindField?: string;
  now?: () => number;
}

interface Window {
  start: number;
  logged: number;
  suppressed: number;
}

/**
 * Logs at most `burst` lines of each kind of event per interval; the rest are
 * counted, and the count is reported as `suppressed` on the next line of that
 * kind. An attacker who trips a limit or gets refused a million times must not
 * fill the disk or spend the CPU on log lines (SPEC B6-B8). Memory: one entry
 * per kind, and kinds are a fixed set (limit names, close codes).
 *
 * @example
 * ```ts
 * const log = new RateLimitedLog(logger);
 * log.log('room-key-quota', { roomId }, 'write refused: room key quota'); // logged
 * log.log('room-key-quota', { roomId }, 'write refused: room key quota'); // counted, not logged
 * ```
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly level: 'warn' | 'info';
  private readonly kindField: string;
  private readonly now: () => number;

  constructor(
    private readonly logger: Logger,
    options: RateLimitedLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.burst = options.burst ?? 1;
    this.level = options.level ?? 'warn';
    this.kindField = options.kindField ?? 'limit';
    this.now = options.now ?? (() => performance.now());
  }

  /** Logs `message` unless this `kind` has had its `burst` lines in the current window. */
  log(kind: string, context: object, message: string): void {
    const now = this.now();
    let window = this.windows.get(kind);
    if (!window || now - window.start >= this.intervalMs) {
      window = { start: now, logged: 0, suppressed: window?.suppressed ?? 0 };
      this.windows.set(kind, window);
    }
    if (window.logged >= this.burst) {
      window.suppressed++;
      return;
    }
    window.logged++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    this.logger[this.level]({ ...context, [this.kindField]: kind, suppressed }, message);
  }
}
