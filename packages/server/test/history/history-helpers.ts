/** Shared values of the history tests. */
import { DEFAULT_ROOM_LIMITS } from '../../src/room/room-limits.js';
import type { ImportLimits } from '../../src/storage/room-export.js';

/** The import limits of a server at its defaults. */
export const TEST_IMPORT_LIMITS: ImportLimits = {
  maxRoomKeys: DEFAULT_ROOM_LIMITS.maxRoomKeys,
  maxRoomBytes: DEFAULT_ROOM_LIMITS.maxRoomBytes,
  maxKeyLength: DEFAULT_ROOM_LIMITS.maxKeyLength,
  maxFieldsPerComponent: DEFAULT_ROOM_LIMITS.maxFieldsPerComponent,
  maxDepth: DEFAULT_ROOM_LIMITS.maxDepth,
};
