import type { ErrorResponse, FrameError, PatchBroadcast, ServerMessage } from 'canvas-store-protocol';
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

  constructor(
    private readonly sessions: ReadonlyMap<string, Session>,
    private readonly gate: DurabilityGate | undefined,
    /** Called when a socket refuses a frame; the room drops that session. */
    private readonly onSendFailed: (session: Session, error: unknown) => void,
  ) {}

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

  /** Sets the presence tick that coalesces ephemeral-only updates and client counts (SPEC R1, R2). */
  coalescePresence(presence: PresenceTick): void {
    this.presence = presence;
  }

  /**
   * Broadcasts a write to every session except its author. A write with
   * document patches leaves at once (O2, O3), its ephemeral part with it; an
   * ephemeral-only one waits for the next presence tick when coalescing is on
   * (SPEC R1). `author` is null for server-made broadcasts (a departure, E3).
   */
  broadcastWrite(author: Session | null, broadcast: PatchBroadcast): void {
    const ephemeral = broadcast.ephemeralPatches;
    if (this.presence && !broadcast.documentPatches && ephemeral) {
      this.presence.ephemeralChanged(author, broadcast.clientId, ephemeral);
      return;
    }
    this.broadcast(author, broadcast);
  }

  /** Tells the presence tick that `session` joined and was sent the current presence (SPEC E2). */
  sessionJoined(session: Session): void {
    this.presence?.sessionJoined(session);
  }

  /** Announces the session count (SPEC S1), at the next presence tick when coalescing is on (R2). */
  broadcastClientCount(): void {
    if (this.presence) this.presence.clientCountChanged();
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

  /** Sends a frame, or holds it until the writes queued before it are durable (SPEC O4). */
  deliver(session: Session, text: string, onSent?: () => void): void {
    const send = () => {
      this.sendNow(session, text);
      onSent?.();
    };
    if (this.gate?.mustHold()) this.gate.hold(send);
    else send();
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
