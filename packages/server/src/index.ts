/**
 * canvas-store-server: a real-time collaboration server for canvas and
 * whiteboard applications, speaking wire protocol version 2 of
 * `@woven-ecs/canvas-store`.
 *
 * @packageDocumentation
 */

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
export { applyBufferDelta } from './document/apply-buffer-delta.js';
export { ClockedDocument } from './document/clocked-document.js';
export type { RoomSnapshot } from './document/room-snapshot.js';
export { SnapshotFormatError } from './document/snapshot-format-error.js';
export { RoomLoadError, RoomManagerClosedError, TooManyRoomsError } from './manager/errors.js';
export { DEFAULT_IDLE_TIMEOUT_MS, RoomManager, type RoomManagerOptions } from './manager/room-manager.js';
export { DEFAULT_FRAME_LIMITS, type FrameLimits } from './protocol/frame-limits.js';
// The wire protocol (frame types, version, close codes) is one module, shared with browser clients.
export * from './protocol/index.js';
export { type ParseResult, parseClientFrame } from './protocol/parse-client-frame.js';
export { RoomClosedError, RoomFullError } from './room/errors.js';
export { consoleLogger, type Logger, silentLogger } from './room/logger.js';
export { Room, type RoomStats, type SocketConnectOptions } from './room/room.js';
export { DEFAULT_ROOM_LIMITS, type RoomLimits } from './room/room-limits.js';
export type { RoomObserver } from './room/room-observer.js';
export { DEFAULT_SAVE_THROTTLE_MS, type RoomOptions } from './room/room-options.js';
export type { SessionInfo, SessionPermission, TokenRefreshResult } from './room/session.js';
export type { WebSocketLike } from './room/web-socket-like.js';
export { FencedError } from './storage/fenced-error.js';
export { FileStorage, type FileStorageOptions } from './storage/file/file-storage.js';
export { MemoryStorage } from './storage/memory/memory-storage.js';
export { PostgresStorage, type PostgresStorageOptions } from './storage/postgres/postgres-storage.js';
export type { RoomFence } from './storage/room-fence.js';
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
