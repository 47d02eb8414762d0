/**
 * The wire protocol alone: frame types, the version and close codes, as
 * `canvas-store-server/protocol`. They live in `canvas-store-protocol`, which
 * browser clients can import without the server; this entry point re-exports
 * them for code that already imports them from here.
 *
 * @packageDocumentation
 */
export {
  type AckResponse,
  type AuthRefreshRequest,
  type BufferDelta,
  type BufferRun,
  type ClientCountBroadcast,
  type ClientMessage,
  CloseCode,
  type CloseCodeValue,
  type ComponentData,
  type ErrorResponse,
  type FieldTimestamps,
  type FrameError,
  type FrameErrorCode,
  type Patch,
  type PatchBroadcast,
  type PatchRequest,
  PROTOCOL_VERSION,
  type ReconnectRequest,
  type ResyncRequest,
  type ServerMessage,
  type SyncedResponse,
  type VersionMismatchResponse,
} from 'canvas-store-protocol';
