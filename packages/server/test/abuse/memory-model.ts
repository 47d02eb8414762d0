/**
 * The worst-case memory model of docs/limits.md, as numbers the abuse suites
 * check against: what one room and one session can cost at given limits.
 * The per-key and per-byte factors are upper bounds measured on Node 20
 * (a key with a few small fields costs about 500 bytes of heap; a stored
 * byte of JSON at most 2 bytes, strings being one or two bytes per character).
 */
import { DEFAULT_ROOM_LIMITS, type RoomLimits } from '../../src/index.js';

/** Heap one document key costs at most beyond its counted bytes (entry, stamps, maps, index). */
const KEY_OVERHEAD_BYTES = 1024;
/** Heap per byte counted by the byte quotas (two-byte strings, object headers). */
export const BYTE_FACTOR = 2;

/** The worst case of one room's document: every key at its overhead, every counted byte at its factor. */
export function roomDocumentWorstCase(limits: RoomLimits = DEFAULT_ROOM_LIMITS): number {
  return limits.maxRoomKeys * KEY_OVERHEAD_BYTES + limits.maxRoomBytes * BYTE_FACTOR;
}

/** The worst case of one client's presence in a room: its ephemeral quotas. */
export function clientPresenceWorstCase(limits: RoomLimits = DEFAULT_ROOM_LIMITS): number {
  return (
    limits.maxEphemeralKeysPerClient * KEY_OVERHEAD_BYTES + limits.maxEphemeralBytesPerClient * BYTE_FACTOR
  );
}

/**
 * The worst case one session adds on top of its room: frames held during an
 * auth-refresh, frames held before its connection is ready (4 frames), the
 * frame being received, its backlog (unsent, and held until earlier writes are
 * durable, SPEC O4) plus the one frame allowed past it
 * (at most a whole-document reply) and its own presence.
 */
export function sessionWorstCase(maxBufferedBytes: number, limits: RoomLimits = DEFAULT_ROOM_LIMITS): number {
  const reply = limits.maxRoomBytes * BYTE_FACTOR;
  return (
    limits.maxQueuedBytes * BYTE_FACTOR +
    4 * limits.maxFrameBytes * BYTE_FACTOR +
    limits.maxFrameBytes +
    maxBufferedBytes +
    reply +
    clientPresenceWorstCase(limits)
  );
}
