/**
 * The wire protocol alone: frame types, the version and close codes. Pure, no
 * Node.js APIs, so browser clients can import it
 * (`canvas-store-server/protocol`).
 *
 * @packageDocumentation
 */
export { CloseCode, type CloseCodeValue } from './close-codes.js';
export type { FrameError, FrameErrorCode } from './frame-error.js';
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
export { PROTOCOL_VERSION } from './version.js';
