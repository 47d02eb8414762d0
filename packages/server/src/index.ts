/**
 * canvas-store-server: a real-time collaboration server for canvas and
 * whiteboard applications, speaking wire protocol version 2 of
 * `@woven-ecs/canvas-store`.
 *
 * @packageDocumentation
 */

// The wire protocol (frame types, version, codes, limits, buffer deltas) lives in
// canvas-store-protocol, shared with browser clients; these names stay part of this API.
export {
  type AckResponse,
  type AuthRefreshRequest,
  applyBufferDelta,
  type BufferDelta,
  type BufferRun,
  type ClientCountBroadcast,
  type ClientMessage,
  CloseCode,
  type CloseCodeValue,
  type ComponentData,
  DEFAULT_FRAME_LIMITS,
  type ErrorResponse,
  type FieldTimestamps,
  type FrameError,
  type FrameErrorCode,
  type FrameLimits,
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
export {
  type AcceptConnectionOptions,
  type AuthorizeInfo,
  type AuthorizeResult,
  acceptConnection,
  type Connection,
  type ConnectionReady,
  type PendingConnection,
  type ReadyConnection,
} from './connection/accept-connection.js';
export {
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectRequestError,
  type ConnectRequestErrorCode,
} from './connection/errors.js';
export { type ConnectParams, parseConnectUrl } from './connection/parse-connect-url.js';
export { ClockedDocument } from './document/clocked-document.js';
export type { RoomSnapshot } from './document/room-snapshot.js';
export { SnapshotFormatError } from './document/snapshot-format-error.js';
export {
  RoomDroppedError,
  RoomLoadError,
  RoomManagerClosedError,
  TooManyRoomsError,
} from './manager/errors.js';
export { DEFAULT_IDLE_TIMEOUT_MS, RoomManager, type RoomManagerOptions } from './manager/room-manager.js';
export { type ParseResult, parseClientFrame } from './protocol/parse-client-frame.js';
export { RoomClosedError, RoomFullError } from './room/errors.js';
export { consoleLogger, type Logger, silentLogger } from './room/logger.js';
export { DEFAULT_PRESENCE_BYTES_PER_SECOND, DEFAULT_PRESENCE_TICK_MS } from './room/presence-tick.js';
export { Room, type RoomStats, type SocketConnectOptions } from './room/room.js';
export { DEFAULT_ROOM_LIMITS, type RoomLimits } from './room/room-limits.js';
export type { RoomObserver } from './room/room-observer.js';
export { DEFAULT_SAVE_THROTTLE_MS, type RoomOptions } from './room/room-options.js';
export type { SessionInfo, SessionPermission, TokenRefreshResult } from './room/session.js';
export type { WebSocketLike } from './room/web-socket-like.js';
export { FencedError } from './storage/fenced-error.js';
export { FileStorage, type FileStorageOptions } from './storage/file/file-storage.js';
export {
  DEFAULT_HISTORY_MAX_AGE_MS,
  DEFAULT_HISTORY_MAX_BYTES,
  DEFAULT_HISTORY_MAX_ENTRIES,
  DEFAULT_HISTORY_RETENTION,
  type HistoryDropReason,
  type HistoryEntry,
  HistoryHorizonError,
  type HistoryPage,
  type HistoryRetention,
  HistoryUnavailableError,
  type HistoryWrite,
  hasHistory,
  type RoomHistory,
} from './storage/history.js';
export {
  MemoryHistoryStorage,
  type MemoryHistoryStorageOptions,
} from './storage/memory/memory-history-storage.js';
export { MemoryStorage } from './storage/memory/memory-storage.js';
export { PostgresStorage, type PostgresStorageOptions } from './storage/postgres/postgres-storage.js';
export {
  DEFAULT_MAX_IMPORT_BYTES,
  type ImportLimits,
  parseRoomExport,
  parseRoomExportText,
  ROOM_EXPORT_FORMAT,
  ROOM_EXPORT_VERSION,
  type RoomExport,
} from './storage/room-export.js';
export type { RoomFence } from './storage/room-fence.js';
export { RoomImportError, type RoomImportErrorCode } from './storage/room-import-error.js';
export { exportFromStorage, importIntoStorage } from './storage/room-transfer.js';
export { SqliteStorage, type SqliteStorageOptions } from './storage/sqlite/sqlite-storage.js';
export type {
  CommitBatch,
  IncrementalStorage,
  SnapshotReason,
  StoredComponent,
  StoredRoom,
} from './storage/storage.js';
export { isIncrementalStorage, type Storage } from './storage/storage.js';
export { StorageCorruptError } from './storage/storage-corrupt-error.js';
