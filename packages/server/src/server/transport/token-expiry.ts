/** The longest delay `setTimeout` takes; a later deadline would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends a live session when its token does: armed at authorization, moved by
 * every `auth-refresh` (SPEC C5), cleared when the socket closes.
 */
export class TokenExpiry {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly expire: () => void) {}

  /** Arms the deadline at `expiresAt` (ms since the epoch), replacing any earlier one; a non-number disarms it. */
  schedule(expiresAt: unknown): void {
    this.clear();
    if (typeof expiresAt !== 'number') return;
    this.timer = setTimeout(this.expire, Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - Date.now())));
    this.timer.unref();
  }

  /** Disarms the deadline. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
