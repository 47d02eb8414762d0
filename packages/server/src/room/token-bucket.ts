/**
 * A token bucket: `capacity` tokens, refilled at `ratePerSecond`. Used for the
 * per-session frame and byte rates (SPEC B4).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes `amount` tokens; false (and nothing taken) when there are not enough. */
  take(amount: number): boolean {
    const now = this.now();
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.updatedAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + elapsedSeconds * this.ratePerSecond);
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}
