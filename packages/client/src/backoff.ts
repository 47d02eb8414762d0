import type { ReconnectOptions } from './client-options.js';

/** Defaults of {@link ReconnectOptions}. */
const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  minDelayMs: 250,
  maxDelayMs: 10_000,
  jitter: 0.5,
});

/**
 * Exponential backoff with jitter: the n-th delay is `min(max, min * 2^n)`, of
 * which the `jitter` fraction is randomised (so clients that lost the same
 * server do not all come back at once).
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ minDelayMs: 100 });
 * setTimeout(retry, backoff.next()); // 50-100 ms, then 100-200 ms, ...
 * backoff.reset(); // after a successful connection
 * ```
 */
export class Backoff {
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: number;
  private attempt = 0;

  constructor(
    options: ReconnectOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.minDelayMs = nonNegative(options.minDelayMs, DEFAULT_RECONNECT.minDelayMs, 'minDelayMs');
    this.maxDelayMs = Math.max(
      this.minDelayMs,
      nonNegative(options.maxDelayMs, DEFAULT_RECONNECT.maxDelayMs, 'maxDelayMs'),
    );
    const jitter = options.jitter ?? DEFAULT_RECONNECT.jitter;
    if (!(jitter >= 0 && jitter <= 1))
      throw new RangeError(`reconnect.jitter must be in [0, 1], got ${jitter}`);
    this.jitter = jitter;
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The next delay, in ms. */
  next(): number {
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** Starts over from the smallest delay. */
  reset(): void {
    this.attempt = 0;
  }
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`reconnect.${name} must be a non-negative number, got ${value}`);
  }
  return value;
}
