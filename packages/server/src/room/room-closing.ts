import { CloseCode } from 'canvas-store-protocol';
import type { Outbox } from './outbox.js';
import type { PresenceTick } from './presence-tick.js';
import type { RoomPersistence } from './room-persistence.js';
import type { RoomSessions } from './room-sessions.js';

/** The parts of a room that closing stops. */
interface ClosingParts {
  readonly presence: PresenceTick | null;
  readonly outbox: Outbox;
  readonly sessions: RoomSessions;
  readonly persistence: RoomPersistence | undefined;
}

/**
 * Closing one room: presence stops, held frames are no longer counted, every
 * session is closed ("going away") and the final save runs. A failed final
 * save is retried in the background until it succeeds (SPEC P4) or is
 * abandoned (cluster mode: the room's lease was lost). Internal to {@link Room}.
 */
export class RoomClosing {
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly parts: ClosingParts) {}

  /** True once {@link close} was called (already while the sessions are being closed). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the room once; later calls return the first call's promise. */
  close(flush: boolean): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const { presence, outbox, sessions, persistence } = this.parts;
    presence?.stop();
    outbox.forgetHeld();
    sessions.closeAll(CloseCode.GoingAway, 'room closed');
    this.closing = persistence?.close(flush) ?? Promise.resolve();
    // The seed's close() returns void, so callers may ignore the promise: a
    // failed final save (already logged) must not become an unhandled rejection.
    this.closing.catch(() => {});
    return this.closing;
  }

  /** Stops retrying a failed final save: it can never succeed, and what it held was never acked. */
  abandonSaving(): void {
    this.parts.persistence?.abandon();
  }

  /** Resolves once the closed room's data is stored (at once when never closed or the final save succeeded). */
  whenPersisted(): Promise<void> {
    if (!this.closing) return Promise.resolve();
    return this.closing.catch(() => this.parts.persistence?.whenPersisted());
  }
}
