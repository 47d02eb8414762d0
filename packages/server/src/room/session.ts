import { FrameQueue } from './frame-queue.js';
import type { RoomLimits } from './room-limits.js';
import { TokenBucket } from './token-bucket.js';
import type { WebSocketLike } from './web-socket-like.js';

/** What a session may do: `readonly` sessions are acked but their writes are not applied (SPEC A2). */
export type SessionPermission = 'readonly' | 'readwrite';

/** Public description of one session. */
export interface SessionInfo {
  sessionId: string;
  clientId: string;
  permissions: SessionPermission;
  metadata?: unknown;
}

/** The result of re-authorizing a session on `auth-refresh` (SPEC C5). */
export interface TokenRefreshResult {
  permissions: SessionPermission;
  metadata?: unknown;
}

/** Re-authorizes one session; throw (or reject) to close it. */
export type SessionTokenRefresher = (token: string) => TokenRefreshResult | Promise<TokenRefreshResult>;

const MINUTE_MS = 60_000;

/**
 * Where a session is in its life: `open` processes frames as they come,
 * `paused` holds them in its inbox while an asynchronous step (an
 * `auth-refresh`) decides (SPEC O1), `closed` is final.
 */
type SessionState = 'open' | 'paused' | 'closing' | 'closed';

/** True for the two permission strings. */
export function isSessionPermission(value: unknown): value is SessionPermission {
  return value === 'readonly' || value === 'readwrite';
}

/**
 * One WebSocket connection attached to a room: identity, permission, metadata
 * and the per-session state that keeps frames in order (SPEC O1) and in bounds (SPEC B3, B4).
 */
export class Session {
  /** Frames that arrived while the session was paused, bounded by `maxQueuedFrames` and `maxQueuedBytes` (SPEC B6). */
  readonly inbox: FrameQueue;
  private state: SessionState = 'open';
  private largeReplyQueued = false;
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private invalidFrames = 0;
  private invalidWindowStart = performance.now();

  constructor(
    readonly sessionId: string,
    readonly clientId: string,
    readonly socket: WebSocketLike,
    public permissions: SessionPermission,
    public metadata: unknown,
    private readonly limits: RoomLimits,
    readonly refreshToken: SessionTokenRefresher | undefined,
  ) {
    this.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst);
    this.inbox = new FrameQueue(limits.maxQueuedFrames, limits.maxQueuedBytes);
  }

  /** True while an asynchronous step holds later frames back. */
  get busy(): boolean {
    return this.state === 'paused';
  }

  /** True once the session left the room (or is leaving it); final. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Holds later frames in {@link inbox} until {@link resume}; an open session only. */
  pause(): void {
    if (this.state === 'open') this.state = 'paused';
  }

  /** Processes frames again; a closed session stays closed. */
  resume(): void {
    if (this.state === 'paused') this.state = 'open';
  }

  /**
   * True once the room decided to close the session but still sends it the
   * frames queued before that decision (a final `error` frame, held acks);
   * frames it sends meanwhile are ignored.
   */
  get closing(): boolean {
    return this.state === 'closing';
  }

  /** Stops taking frames until the session is closed; a closed session stays closed. */
  beginClosing(): void {
    if (this.state !== 'closed') this.state = 'closing';
  }

  /** Marks the session closed, for good. */
  close(): void {
    this.state = 'closed';
  }

  /** True while this session's large reconnect reply waits for earlier writes to be durable (SPEC B6). */
  get replyHeld(): boolean {
    return this.largeReplyQueued;
  }

  /** Notes that a large reconnect reply was queued (`large`) or that the last one left. */
  setReplyHeld(large: boolean): void {
    this.largeReplyQueued = large;
  }

  /** Charges one frame of `length` bytes against the rate limits; false when over. */
  withinRate(length: number): boolean {
    return this.frames.take(1) && this.bytes.take(length);
  }

  /** Counts an invalid frame; false once the session exceeded its budget for this minute. */
  countInvalidFrame(): boolean {
    const now = performance.now();
    if (now - this.invalidWindowStart > MINUTE_MS) {
      this.invalidWindowStart = now;
      this.invalidFrames = 0;
    }
    this.invalidFrames++;
    return this.invalidFrames <= this.limits.maxInvalidFramesPerMinute;
  }

  info(): SessionInfo {
    const info: SessionInfo = {
      sessionId: this.sessionId,
      clientId: this.clientId,
      permissions: this.permissions,
    };
    if (this.metadata !== undefined) info.metadata = this.metadata;
    return info;
  }
}
