import type { ClientMessage, FrameErrorCode } from 'canvas-store-protocol';

/**
 * Hooks for metrics: called synchronously on the hot path, so keep them cheap.
 * Every hook is optional; a hook that throws is logged and ignored.
 */
export interface RoomObserver {
  /** A frame passed validation. */
  frameAccepted?(type: ClientMessage['type'], bytes: number): void;
  /** A frame was rejected (invalid, too large or over a rate). */
  frameRejected?(code: FrameErrorCode): void;
  /**
   * A session hit a limit or quota (SPEC B6, B7), named as in `RoomLimits`
   * (for example `maxRoomKeys`); the frame was refused or the session closed.
   */
  limitHit?(limit: string): void;
  /** A write was acked: ms from receiving its frame to sending its ack (commit wait included). */
  writeAcked?(latencyMs: number): void;
  /** A storage commit finished. */
  commitFinished?(durationMs: number, components: number, ok: boolean): void;
  /**
   * A presence tick sent what it had gathered (SPEC R1, R2): how many updates
   * were folded into a later one, and an estimate of the bytes saved.
   */
  presenceTick?(coalescedUpdates: number, bytesSaved: number): void;
  /**
   * Frames held until earlier writes are durable (SPEC O4) changed: `frames`
   * and `bytes` (characters) are deltas, positive when frames are held,
   * negative when they leave or are forgotten (the room closed).
   */
  framesHeld?(frames: number, bytes: number): void;
}
