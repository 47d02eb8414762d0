import type { AuthorizeInfo, AuthorizeResult } from '../connection/accept-connection.js';

/**
 * SPEC C5 for a session forwarded to the room's owner. The owner decides on
 * an `auth-refresh` (its verdict sets the permissions; a refusal closes the
 * session there, and the close comes back over the link). But the node that
 * forwards holds the client's socket, and with it the token's expiry timer and
 * the per-principal limits, which its `authorize` keeps up to date. So the
 * same `authorize` runs there too, on every refreshed token, as on a single
 * node: its success moves the socket's deadline to the new token's expiry
 * (later or earlier). A failure there changes nothing: the old deadline stays
 * and the owner's refusal closes the session.
 *
 * One check runs at a time and only the newest token waits, so a client that
 * floods refreshes costs one check in flight and one token held.
 */
export class ForwardedRefresh {
  private next: string | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly authorize: (info: AuthorizeInfo) => AuthorizeResult | Promise<AuthorizeResult>,
    private readonly identity: { roomId: string; clientId: string },
  ) {}

  /** Looks at a client frame on its way to the owner; an `auth-refresh` gets checked here too. */
  onFrame(data: string): void {
    // Cheap test first: almost every frame is something else.
    if (this.stopped || !data.includes('auth-refresh')) return;
    let token: unknown;
    try {
      const frame = JSON.parse(data) as { type?: unknown; token?: unknown } | null;
      if (frame?.type !== 'auth-refresh') return;
      token = frame.token;
    } catch {
      return;
    }
    if (typeof token !== 'string') return;
    this.next = token;
    if (!this.running) void this.run();
  }

  /** The session ended: no more checks. */
  stop(): void {
    this.stopped = true;
    this.next = undefined;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.next !== undefined && !this.stopped) {
        const token = this.next;
        this.next = undefined;
        try {
          await this.authorize({ ...this.identity, token, request: undefined });
        } catch {
          // The owner's verdict on the same token closes the session.
        }
      }
    } finally {
      this.running = false;
    }
  }
}
