/** Addresses remembered at most; past that, those back at full allowance are forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Allowance {
  tokens: number;
  at: number;
}

/**
 * Slows down guessing of the admin secret (SPEC B8): each remote address may
 * send `failuresPerMinute` wrong secrets in a burst, then one more per
 * `60 / failuresPerMinute` seconds. While an address has no allowance left,
 * every admin request from it is answered 429 before its secret is even
 * compared. Memory is bounded by {@link MAX_TRACKED_ADDRESSES}.
 *
 * @example
 * ```ts
 * const throttle = new AdminThrottle(10);
 * const wait = throttle.retryAfterSeconds(address); // 0: go on
 * if (!authorized) throttle.failed(address);
 * ```
 */
export class AdminThrottle {
  private readonly allowances = new Map<string, Allowance>();
  private readonly perMs: number;

  constructor(
    private readonly failuresPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = failuresPerMinute / 60_000;
  }

  /** Seconds `address` must wait before its next attempt; 0 when it may go on. */
  retryAfterSeconds(address: string): number {
    const tokens = this.tokensOf(address);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.perMs / 1000);
  }

  /** Charges one wrong secret to `address`. */
  failed(address: string): void {
    const tokens = this.tokensOf(address) - 1;
    this.allowances.delete(address); // re-inserted last: the map stays in order of last failure
    this.allowances.set(address, { tokens, at: this.now() });
    if (this.allowances.size > MAX_TRACKED_ADDRESSES) this.prune();
  }

  private tokensOf(address: string): number {
    const entry = this.allowances.get(address);
    if (!entry) return this.failuresPerMinute;
    return Math.min(this.failuresPerMinute, entry.tokens + (this.now() - entry.at) * this.perMs);
  }

  private prune(): void {
    for (const address of this.allowances.keys()) {
      if (this.tokensOf(address) >= this.failuresPerMinute) this.allowances.delete(address);
    }
    // Still too many: forget the addresses that failed longest ago.
    for (const address of this.allowances.keys()) {
      if (this.allowances.size <= MAX_TRACKED_ADDRESSES) break;
      this.allowances.delete(address);
    }
  }
}
