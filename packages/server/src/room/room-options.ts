import type { Patch } from 'canvas-store-protocol';
import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { Storage } from '../storage/storage.js';
import type { Logger } from './logger.js';
import {
  DEFAULT_PRESENCE_BYTES_PER_SECOND,
  DEFAULT_PRESENCE_TICK_MS,
  type PresenceTickOptions,
} from './presence-tick.js';
import type { Room } from './room.js';
import type { RoomLimits } from './room-limits.js';
import type { RoomObserver } from './room-observer.js';
import type { TokenRefreshResult } from './session.js';

/** Default minimum time between whole-snapshot saves, in ms. */
export const DEFAULT_SAVE_THROTTLE_MS = 10_000;

/**
 * Options of a {@link Room}. Every callback is guarded: one that throws is
 * logged and does not disturb the room.
 */
export interface RoomOptions {
  /** Restore from a previous snapshot (used when storage holds nothing). */
  initialSnapshot?: RoomSnapshot;
  /** Pluggable persistence backend. */
  storage?: Storage;
  /** Factory for the storage, as in the published 2.x server; `storage` wins when both are given. */
  createStorage?: () => Storage;
  /** Called when document state changes. */
  onDataChange?: (room: Room) => void;
  /** Called with the document patches of every applied write. */
  onDocumentPatch?: (room: Room, patches: Patch[]) => void;
  /** Called after each session removal (SPEC S2). */
  onSessionRemoved?: (room: Room, info: { sessionId: string; remaining: number }) => void;
  /**
   * Called when a client sends an `auth-refresh` frame: return the new
   * permissions (and optionally metadata); throw to drop the session (SPEC C5).
   */
  onTokenRefresh?: (
    room: Room,
    info: { sessionId: string; clientId: string; token: string },
  ) => TokenRefreshResult | Promise<TokenRefreshResult>;
  /** Minimum ms between persistence saves for load/save storages. Default 10000. */
  saveThrottleMs?: number;
  /** Limits on frames, rates and sessions; unspecified ones take their defaults. */
  limits?: Partial<RoomLimits>;
  /** Where warnings and errors go. Default: JSON lines on stderr. */
  logger?: Logger;
  /** The room's id, for logs. Set by {@link RoomManager}. */
  roomId?: string;
  /** Metrics hooks. */
  observer?: RoomObserver;
  /**
   * Presence tick in ms (SPEC R1, R2): ephemeral-only updates and client
   * counts are gathered per recipient and sent at most once per tick, as one
   * frame each. 0 turns coalescing off: every update and count is sent at
   * once, as the published server does, except while frames wait for a
   * commit or for a recipient whose socket is behind, where presence still
   * folds to bound memory (SPEC B6). Default 50.
   */
  presenceTickMs?: number;
  /**
   * Per-recipient byte budget of coalesced presence, in bytes per second. When
   * a tick's frames for one recipient exceed `budget × tick`, the next tick
   * waits `1000 × bytes ÷ budget` ms instead, so big rooms send fewer, larger
   * frames. Default 262144 (256 KiB/s).
   */
  presenceBytesPerSecond?: number;
}

/**
 * The validated presence settings of `options`, or null when coalescing is
 * off (`presenceTickMs: 0`).
 *
 * @throws RangeError when a value is not a finite number in range.
 */
export function presenceSettings(options: RoomOptions): PresenceTickOptions | null {
  const tickMs = options.presenceTickMs ?? DEFAULT_PRESENCE_TICK_MS;
  const bytesPerSecond = options.presenceBytesPerSecond ?? DEFAULT_PRESENCE_BYTES_PER_SECOND;
  if (typeof tickMs !== 'number' || !Number.isFinite(tickMs) || tickMs < 0) {
    throw new RangeError(`presenceTickMs must be a non-negative number, got ${String(tickMs)}`);
  }
  if (typeof bytesPerSecond !== 'number' || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
    throw new RangeError(`presenceBytesPerSecond must be a positive number, got ${String(bytesPerSecond)}`);
  }
  return tickMs === 0 ? null : { tickMs, bytesPerSecond };
}
