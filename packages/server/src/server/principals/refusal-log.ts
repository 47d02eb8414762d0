import type { ServerLogger } from '../observability/create-logger.js';

/** Options of {@link RefusalLog}. */
export interface RefusalLogOptions {
  /** The log line's message. Default `refused: limit reached`. */
  msg?: string;
  /** Default `warn`. */
  level?: 'warn' | 'info';
  /** Lines per kind and interval. Default 1. */
  burst?: number;
  /** The field naming the kind in each line. Default `limit`. */
  kindField?: string;
  /** Default 10 s. */
  intervalMs?: number;
  now?: () => number;
}

interface Window {
  start: number;
  logged: number;
  suppressed: number;
}

/**
 * Logs refusals at a bounded rate (SPEC B8): at most `burst` lines of each
 * kind per interval; the rest are counted and the count is reported, as
 * `suppressed`, on the next line of that kind. A flood of refused connections
 * cannot flood the logs. Memory: one entry per kind (kinds are a fixed set:
 * limit names or close codes).
 *
 * @example
 * ```ts
 * const log = new RefusalLog(logger);
 * log.refused('rooms-per-address', { address });
 * ```
 */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();
  private readonly msg: string;
  private readonly level: 'warn' | 'info';
  private readonly burst: number;
  private readonly kindField: string;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: ServerLogger,
    options: RefusalLogOptions = {},
  ) {
    this.msg = options.msg ?? 'refused: limit reached';
    this.level = options.level ?? 'warn';
    this.burst = options.burst ?? 1;
    this.kindField = options.kindField ?? 'limit';
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The log of refused connections: per close code, at most 10 info lines per 10 s. */
  static forConnections(logger: ServerLogger): RefusalLog {
    return new RefusalLog(logger, { msg: 'connection refused', level: 'info', burst: 10, kindField: 'kind' });
  }

  /** Logs (or counts for later) one refusal of kind `limit`. */
  refused(limit: string, fields: Record<string, unknown>): void {
    const now = this.now();
    let window = this.windows.get(limit);
    if (!window || now - window.start >= this.intervalMs) {
      window = { start: now, logged: 0, suppressed: window?.suppressed ?? 0 };
      this.windows.set(limit, window);
    }
    if (window.logged >= this.burst) {
      window.suppressed++;
      return;
    }
    window.logged++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    this.logger[this.level]({ ...fields, [this.kindField]: limit, suppressed }, this.msg);
  }
}
