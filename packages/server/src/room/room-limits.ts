import { DEFAULT_FRAME_LIMITS, type FrameLimits } from 'canvas-store-protocol';

/**
 * Limits a room enforces on its sessions (SPEC B3, B4), on top of the
 * per-frame {@link FrameLimits}. Exceeding a rate or the invalid-frame budget
 * closes the session with a documented close code.
 */
export interface RoomLimits extends FrameLimits {
  /** Sustained frames per second per session. Default 100 (the published client sends at most 30). */
  framesPerSecond: number;
  /** Frames a session may send in a burst above the sustained rate. Default 300. */
  frameBurst: number;
  /** Sustained bytes per second per session. Default 4 MiB. */
  bytesPerSecond: number;
  /** Bytes a session may send in a burst. Default 16 MiB. */
  byteBurst: number;
  /** Sessions one room holds at most. Default 1,000. */
  maxSessionsPerRoom: number;
  /** Invalid frames a session may send per minute before it is closed. Default 10. */
  maxInvalidFramesPerMinute: number;
  /** Frames held for a session while an `auth-refresh` is checked. Default 256. */
  maxQueuedFrames: number;
  /** Characters (about bytes) of the frames held while an `auth-refresh` is checked (SPEC B6). Default 8 MiB. */
  maxQueuedBytes: number;
  /** Document keys a room may hold, tombstones included until compacted (SPEC B7). Default 100,000. */
  maxRoomKeys: number;
  /** Stored bytes of a room's document, tombstones included (SPEC B7). Default 32 MiB. */
  maxRoomBytes: number;
  /** Ephemeral keys one client may hold in a room (SPEC B7). Default 256. */
  maxEphemeralKeysPerClient: number;
  /** Ephemeral bytes one client may hold in a room (SPEC B7). Default 64 KiB. */
  maxEphemeralBytesPerClient: number;
}

/**
 * A reconnect reply at least this large counts as a whole-document reply: a
 * session may have only one of them queued (SPEC B6). Smaller replies are
 * bounded by the session's backlog bound alone.
 */
export const LARGE_REPLY_BYTES = 64 * 1024;

/** Defaults of {@link RoomLimits}. */
export const DEFAULT_ROOM_LIMITS: Readonly<RoomLimits> = Object.freeze({
  ...DEFAULT_FRAME_LIMITS,
  framesPerSecond: 100,
  frameBurst: 300,
  bytesPerSecond: 4 * 1024 * 1024,
  byteBurst: 16 * 1024 * 1024,
  maxSessionsPerRoom: 1_000,
  maxInvalidFramesPerMinute: 10,
  maxQueuedFrames: 256,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxRoomKeys: 100_000,
  maxRoomBytes: 32 * 1024 * 1024,
  maxEphemeralKeysPerClient: 256,
  maxEphemeralBytesPerClient: 64 * 1024,
});

/** Fills unspecified limits with defaults and rejects nonsensical values. */
export function resolveRoomLimits(overrides: Partial<RoomLimits> | undefined): RoomLimits {
  const limits: RoomLimits = { ...DEFAULT_ROOM_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new RangeError(`limit ${name} must be a non-negative number, got ${String(value)}`);
    }
  }
  return limits;
}
