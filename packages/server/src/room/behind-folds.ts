import type { Patch } from 'canvas-store-protocol';
import type { PresenceTick } from './presence-tick.js';
import type { Session } from './session.js';

/**
 * What one key folded for a recipient behind counts against its backlog bound
 * (SPEC B6), in characters: the pending change and, later, its part of the
 * folded frame. A recipient behind on more distinct keys than its bound
 * allows is cut as a slow consumer, as it would have been for their frames.
 */
export const FOLDED_KEY_CHARS = 256;

interface Fold {
  readonly tick: PresenceTick;
  /** Characters reserved against the recipient's bound for the keys folded so far. */
  reserved: number;
}

/**
 * Presence for recipients whose socket is behind, with coalescing off (SPEC
 * B6, R1): instead of queueing every ephemeral-only update for a client that
 * does not read fast enough until it is cut as a slow consumer, the updates
 * fold into one pending presence tick per such recipient (the latest value of
 * each key, read when sent), sent once it caught up or found caught up at the
 * next update. Recipients that keep up are not touched.
 */
export class BehindFolds {
  /** Weak: a recipient that left takes its fold with it. */
  private readonly folds = new WeakMap<Session, Fold>();

  constructor(
    /** Makes the (manual) presence tick of one recipient. */
    private readonly factory: (session: Session) => PresenceTick,
  ) {}

  /**
   * Folds an update of `owner` made by `author` for `session` when it is
   * behind and returns true; returns false (after sending what was folded,
   * if anything) when it keeps up and should be sent the update itself.
   */
  fold(session: Session, author: Session | null, owner: string, patches: readonly Patch[]): boolean {
    const fold = this.foldOf(session);
    if (!fold) return false;
    const before = fold.tick.pending;
    fold.tick.ephemeralChanged(author, owner, patches);
    const cost = (fold.tick.pending - before) * FOLDED_KEY_CHARS;
    if (cost > 0) {
      // B6: past its bound the socket cut the recipient; the fold is given up with it.
      if (session.socket.reserve && !session.socket.reserve(cost)) this.drop(session, fold);
      else fold.reserved += cost;
    }
    return true;
  }

  /** The fold of `session` while it is behind; once it is not, what was folded is sent first. */
  private foldOf(session: Session): Fold | null {
    const existing = this.folds.get(session);
    if (!session.socket.behind?.()) {
      if (existing) this.send(session, existing);
      return null;
    }
    if (existing) return existing;
    const fold: Fold = { tick: this.factory(session), reserved: 0 };
    this.folds.set(session, fold);
    session.socket.onceCaughtUp?.(() => {
      if (this.folds.get(session) === fold) this.send(session, fold);
    });
    return fold;
  }

  private send(session: Session, fold: Fold): void {
    this.drop(session, fold);
    if (!session.closed) fold.tick.flush();
  }

  /** Forgets a fold (sent now, or its recipient was cut) and gives back what it reserved. */
  private drop(session: Session, fold: Fold): void {
    this.folds.delete(session);
    if (fold.reserved > 0) session.socket.unreserve?.(fold.reserved);
    fold.reserved = 0;
  }
}
