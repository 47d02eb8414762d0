import type { RoomLimits } from '../../room/room-limits.js';
import type { RoomOptions } from '../../room/room-options.js';
import type { ServerConfig } from './server-config.js';

/** The per-room options and limits the server command gives every room, read from its configuration. */
export type ConfiguredRoomOptions = Pick<
  RoomOptions,
  'saveThrottleMs' | 'presenceTickMs' | 'presenceBytesPerSecond'
> & { limits: Partial<RoomLimits> };

/**
 * Maps the server's flags onto a room's options (see docs/limits.md). The
 * rate limits' bursts are not flags of their own: a client may send three
 * seconds' worth of frames and four seconds' worth of bytes at once.
 */
export function roomOptionsFromConfig(config: ServerConfig): ConfiguredRoomOptions {
  return {
    saveThrottleMs: config.saveThrottleMs,
    presenceTickMs: config.presenceTickMs,
    presenceBytesPerSecond: config.presenceBytesPerSecond,
    limits: {
      maxFrameBytes: config.maxFrameBytes,
      maxKeysPerFrame: config.maxKeysPerFrame,
      maxDepth: config.maxDepth,
      maxBufferLength: config.maxBufferLength,
      maxBufferEntriesPerFrame: config.maxBufferEntriesPerFrame,
      maxRoomKeys: config.maxRoomKeys,
      maxRoomBytes: config.maxRoomBytes,
      maxEphemeralKeysPerClient: config.maxEphemeralKeys,
      maxEphemeralBytesPerClient: config.maxEphemeralBytes,
      maxQueuedBytes: config.maxHeldBytes,
      framesPerSecond: config.framesPerSecond,
      frameBurst: config.framesPerSecond * 3,
      bytesPerSecond: config.bytesPerSecond,
      byteBurst: config.bytesPerSecond * 4,
      maxSessionsPerRoom: config.maxSessionsPerRoom,
    },
  };
}
