import { type ClientMessage, CloseCode } from 'canvas-store-protocol';
import { parseClientFrame } from '../protocol/parse-client-frame.js';
import { handleAuthRefresh } from './auth-refresh.js';
import type { RoomContext } from './room-context.js';
import type { Session } from './session.js';
import { handlePatch, handleReconnect } from './write-frames.js';

/**
 * The one way into a room for client frames: holds them while the session is
 * busy (SPEC O1), checks size and rate (B3, B4), validates (B1, B2) and
 * dispatches each to its handler.
 */
export class FrameIntake {
  constructor(private readonly ctx: RoomContext) {}

  /** Takes one decoded frame of `session`: processes it now, or holds it while the session is busy. */
  receive(session: Session, text: string): void {
    if (session.closing) return;
    if (session.busy) {
      this.hold(session, text);
      return;
    }
    this.process(session, text);
  }

  /** Processes frames held while the session was busy, until it is busy again or they run out. */
  resume(session: Session): void {
    session.resume();
    while (!session.busy && !session.closed && !session.closing && session.inbox.length > 0) {
      const next = session.inbox.shift() as string;
      try {
        this.process(session, next);
      } catch (error) {
        this.ctx.events.logger.error(
          { ...this.ctx.events.logContext, err: error },
          'unexpected error handling a held frame',
        );
      }
    }
  }

  private hold(session: Session, text: string): void {
    const { events } = this.ctx;
    const overflow = session.inbox.push(text);
    if (overflow === 'frames') {
      events.limitHit(session, 'maxQueuedFrames', 'session closed: too many frames held during auth-refresh');
      this.ctx.dropSession(session, CloseCode.TooManyPendingFrames, 'too many frames while busy');
    } else if (overflow === 'bytes') {
      // B6: held frames are bounded by size too, or a few large ones would hold megabytes each.
      events.limitHit(session, 'maxQueuedBytes', 'session closed: too many bytes held during auth-refresh');
      this.ctx.dropSession(session, CloseCode.TooManyPendingFrames, 'too many bytes while busy');
    }
  }

  private process(session: Session, text: string): void {
    const { ctx } = this;
    const { limits, counters, events, outbox } = ctx;
    const receivedAt = performance.now();
    counters.framesReceived++;
    // Size first: an oversized frame is refused as such, and never charged to the rate limits.
    // Measured once here; the validator is handed the figure instead of walking the text again.
    const bytes = text.length > limits.maxFrameBytes ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes > limits.maxFrameBytes) {
      counters.framesRejected++;
      events.observe((o) => o.frameRejected?.('frame-too-large'));
      outbox.sendError(session, {
        code: 'frame-too-large',
        message: `frame exceeds ${limits.maxFrameBytes} bytes`,
      });
      ctx.dropAfterQueued(session, CloseCode.FrameTooLarge, 'frame too large');
      return;
    }
    if (!session.withinRate(bytes)) {
      counters.framesRejected++;
      events.observe((o) => o.frameRejected?.('rate-limited'));
      outbox.sendError(session, { code: 'rate-limited', message: 'frame or byte rate limit exceeded' });
      ctx.dropAfterQueued(session, CloseCode.RateLimited, 'rate limit exceeded');
      return;
    }
    const result = parseClientFrame(text, limits, bytes);
    if (!result.ok) {
      counters.framesRejected++;
      const code = result.error.code;
      events.observe((o) => o.frameRejected?.(code));
      if (code === 'buffer-budget-exceeded')
        events.limitHit(session, 'maxBufferEntriesPerFrame', 'frame refused: buffer budget');
      outbox.sendError(session, result.error);
      if (!session.countInvalidFrame()) {
        ctx.dropAfterQueued(session, CloseCode.InvalidFrames, 'too many invalid frames');
      }
      return;
    }
    const type = result.frame.type;
    events.observe((o) => o.frameAccepted?.(type, bytes));
    this.dispatch(session, result.frame, receivedAt);
  }

  private dispatch(session: Session, frame: ClientMessage, receivedAt: number): void {
    switch (frame.type) {
      case 'patch':
        handlePatch(this.ctx, session, frame, receivedAt);
        return;
      case 'reconnect':
        handleReconnect(this.ctx, session, frame);
        return;
      case 'auth-refresh':
        handleAuthRefresh(this.ctx, session, frame, (s) => this.resume(s));
        return;
      default: {
        const unreachable: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
