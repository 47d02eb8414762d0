/**
 * canvas-store-protocol: the wire protocol (version 2) that canvas-store-server
 * and canvas-store-client share. Frame types, `PROTOCOL_VERSION`, close and
 * error codes, frame limits, the pure checks of client frames (depth scan,
 * forbidden names, patch validation) and buffer deltas (SPEC D6). Pure: no IO,
 * no timers, no Node.js APIs and no dependencies, so browsers can use it.
 *
 * @packageDocumentation
 */
export { applyBufferDelta } from './apply-buffer-delta.js';
export {
  checkBufferDelta,
  isBufferDelta,
  isValidatedBufferDelta,
  looksLikeBufferDelta,
} from './buffer-delta-shape.js';
export {
  checkFramePatches,
  checkPatchList,
  type FramePatchesResult,
  type PatchCheckFailure,
} from './check-patches.js';
export { CloseCode, type CloseCodeValue } from './close-codes.js';
export { isForbiddenName, isStorableName } from './forbidden-names.js';
export type { FrameError, FrameErrorCode } from './frame-error.js';
export { DEFAULT_FRAME_LIMITS, type FrameLimits } from './frame-limits.js';
export type {
  AckResponse,
  AuthRefreshRequest,
  BufferDelta,
  BufferRun,
  ClientCountBroadcast,
  ClientMessage,
  ComponentData,
  ErrorResponse,
  FieldTimestamps,
  Patch,
  PatchBroadcast,
  PatchRequest,
  ReconnectRequest,
  ResyncRequest,
  ServerMessage,
  SyncedResponse,
  VersionMismatchResponse,
} from './messages.js';
export { isPlainObject } from './plain-object.js';
export { withinDepth } from './scan-depth.js';
export { PROTOCOL_VERSION } from './version.js';
