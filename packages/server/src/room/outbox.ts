import type { ErrorResponse, FrameError, PatchBroadcast, ServerMessage } from 'canvas-store-protocol';
import { BehindFolds } from './behind-folds.js';
import type { PresenceTick } from './presence-tick.js';
import type { Session } from './session.js';

/**
 * Holds frames back until the writes queued before them are durable (SPEC O4).
 * Implemented by the commit pipeline of an incremental storage.
 */
export interface DurabilityGate {
  /** True while an earlier write is not yet durable, or earlier frames still wait. */
  mustHold(): boolean;
  /** Queues `send` to run, in order, once the writes staged before it are durable. */
  hold(send: () => void): void;
}

/**
 * Every frame a room sends leaves through here. {@link Outbox.deliver} is the
 * one place that decides "send now or hold until durable", so acks, broadcasts
 * and replies all keep the same order (SPEC O2, O3, O4). Ephemeral-only
 * updates and client counts go to the presence tick when one is set (SPEC R1,
 * R2); it sends them back through {@link Outbox.deliver}.
 */
export class Outbox {
  private presence: PresenceTick | null = null;
  /** True when the presence tick only gathers what arrives while frames are held (`presenceTickMs: 0`). */
  private presenceOnlyWhileHeld = false;
  /** Frames and characters held for durability now, for the held-frames metrics. */
  private heldFrames = 0;
  private heldBytes = 0;
  /** Set once the room closed: held frames left are no longer counted. */
  private heldForgotten = false;
  /** Presence folded for recipients behind (coalescing off); null when coalescing is on. */
  private behind: BehindFolds | null = null;

  constructor(
    private readonly sessions: ReadonlyMap<string, Session>,
    private readonly gate: DurabilityGate | undefined,
    /** Called when a socket refuses a frame; the room drops that session. */
    private readonly onSendFailed: (session: Session, error: unknown) => void,
    /** Told how many frames and characters are held for durability (deltas), for metrics. */
    private readonly onHeld?: (frames: number, bytes: number) => void,
  ) {}

  /** True when frames can be held for durability: the room writes through a commit pipeline (SPEC O4). */
  get canHold(): boolean {
    return this.gate !== undefined;
  }

  /** True while a frame sent now would be held until earlier writes are durable (SPEC O4). */
  holding(): boolean {
    return this.gate?.mustHold() ?? false;
  }

  /** Serialises and delivers one frame to one session. */
  send(session: Session, message: ServerMessage): void {
    this.deliver(session, JSON.stringify(message));
  }

  /** Delivers an `error` frame (SPEC B2). */
  sendError(session: Session, error: FrameError): void {
    const frame: ErrorResponse = { type: 'error', code: error.code, message: error.message };
    if (error.messageId !== undefined) frame.messageId = error.messageId;
    this.send(session, frame);
  }

  /** Sends one frame to every session except `except`, serialising it once. */
  broadcast(except: Session | null, message: ServerMessage): void {
    if (this.sessions.size === 0 || (except && this.sessions.size === 1)) return;
    const text = JSON.stringify(message);
    for (const session of this.sessions.values()) {
      if (session !== except) this.deliver(session, text);
    }
  }

  /**
   * Sets the presence tick that coalesces ephemeral-only updates and client
   * counts (SPEC R1, R2). With `onlyWhileHeld` (coalescing off) it gets only
   * what arrives while frames are held for durability: instead of one held
   * frame per update and recipient, which grows with n² traffic for as long
   * as a commit takes (SPEC B6), each recipient gets the latest values once
   * the frames before them have left.
   */
  coalescePresence(presence: PresenceTick, onlyWhileHeld = false): void {
    this.presence = presence;
    this.presenceOnlyWhileHeld = onlyWhileHeld;
  }

  /**
   * With coalescing off: presence for a recipient whose socket is behind is
   * folded by `factory`'s tick (latest value per key) and sent as one frame
   * once it caught up, instead of queued frame by frame until it is cut as a
   * slow consumer (SPEC B6). Recipients that keep up are sent every update.
   */
  foldBehind(factory: (session: Session) => PresenceTick): void {
    this.behind = new BehindFolds(factory);
  }

  /** The presence tick, when an ephemeral-only update or client count sent now goes there. */
  private presenceNow(): PresenceTick | null {
    if (!this.presence) return null;
    return !this.presenceOnlyWhileHeld || this.holding() ? this.presence : null;
  }

  /**
   * Broadcasts a write to every session except its author. A write with
   * document patches leaves at once (O2, O3), its ephemeral part with it; an
   * ephemeral-only one waits for the next presence tick when coalescing is on
   * (SPEC R1). `author` is null for server-made broadcasts (a departure, E3).
   */
  broadcastWrite(author: Session | null, broadcast: PatchBroadcast): void {
    const ephemeral = broadcast.ephemeralPatches;
    const presence = !broadcast.documentPatches && ephemeral ? this.presenceNow() : null;
    if (presence && ephemeral) {
      presence.ephemeralChanged(author, broadcast.clientId, ephemeral);
      return;
    }
    if (!broadcast.documentPatches && ephemeral && this.behind) {
      this.broadcastEphemeral(this.behind, author, broadcast, ephemeral);
      return;
    }
    this.broadcast(author, broadcast);
  }

  /** Sends an ephemeral-only update to those keeping up, folds it for those behind. */
  private broadcastEphemeral(
    behind: BehindFolds,
    author: Session | null,
    broadcast: PatchBroadcast,
    ephemeral: NonNullable<PatchBroadcast['ephemeralPatches']>,
  ): void {
    let text: string | null = null;
    for (const session of this.sessions.values()) {
      if (session === author) continue;
      if (behind.fold(session, author, broadcast.clientId, ephemeral)) continue;
      text ??= JSON.stringify(broadcast);
      this.deliver(session, text);
    }
  }

  /** Tells the presence tick that `session` joined and was sent the current presence (SPEC E2). */
  sessionJoined(session: Session): void {
    this.presence?.sessionJoined(session);
  }

  /** Announces the session count (SPEC S1), at the next presence tick when coalescing is on (R2). */
  broadcastClientCount(): void {
    const presence = this.presenceNow();
    if (presence) presence.clientCountChanged();
    else this.broadcast(null, { type: 'clientCount', count: this.sessions.size });
  }

  /**
   * Runs `then` once every frame queued so far has left: at once, or after the
   * frames held for durability (SPEC O4). A session closed by the room goes
   * this way, so the `error` frame that says why, and the acks queued before
   * it, reach the client before the close does.
   */
  afterQueued(then: () => void): void {
    if (this.gate?.mustHold()) this.gate.hold(then);
    else then();
  }

  /**
   * Sends a frame, or holds it until the writes queued before it are durable
   * (SPEC O4). A held frame counts against the session's backlog bound (B6):
   * when the socket refuses to reserve it, the socket cut the connection as a
   * slow consumer and the frame is dropped.
   */
  deliver(session: Session, text: string, onSent?: () => void): void {
    const gate = this.gate;
    if (!gate?.mustHold()) {
      this.sendNow(session, text);
      onSent?.();
      return;
    }
    if (session.closed) return;
    const { socket } = session;
    const length = text.length;
    if (socket.reserve && !socket.reserve(length)) return;
    this.countHeld(1, length);
    gate.hold(() => {
      socket.unreserve?.(length);
      this.countHeld(-1, -length);
      this.sendNow(session, text);
      onSent?.();
    });
  }

  /** Stops counting the frames still held (the room closed; they are sent or dropped with it). */
  forgetHeld(): void {
    if (this.heldForgotten) return;
    this.onHeld?.(-this.heldFrames, -this.heldBytes);
    this.heldForgotten = true;
    this.heldFrames = 0;
    this.heldBytes = 0;
  }

  private countHeld(frames: number, bytes: number): void {
    if (this.heldForgotten) return;
    this.heldFrames += frames;
    this.heldBytes += bytes;
    this.onHeld?.(frames, bytes);
  }

  private sendNow(session: Session, text: string): void {
    if (session.closed) return;
    try {
      session.socket.send(text);
    } catch (error) {
      this.onSendFailed(session, error);
    }
  }
}
