/**
 * Wire frame types of protocol version 2. Every frame is one JSON object per
 * WebSocket text message. These types describe frames *after* validation; use
 * {@link parseClientFrame} to turn untrusted text into one of them.
 */

/**
 * The data stored under one key: a JSON object of fields. `_exists: false`
 * marks a deletion (tombstone); `_version` is an ordinary field that clients
 * use for migrations.
 */
export type ComponentData = Record<string, unknown> & {
  _exists?: boolean;
  _version?: string;
};

/** Per-field clock stamps of one component: field name to the clock that last wrote it. */
export type FieldTimestamps = Record<string, number>;

/** A set of component writes: key (`"<entityId>/<component>"` or `"SINGLETON/<name>"`) to partial component. */
export type Patch = Record<string, ComponentData>;

/** One run of a buffer delta: values written from `offset` on. */
export type BufferRun = [offset: number, values: number[]];

/**
 * A compact encoding of a numeric array field (SPEC D6): keep the first
 * `min(len, stored.length)` stored entries, pad with 0 up to `len`, then write
 * each run. Only a wire encoding: stored state always holds whole arrays.
 */
export interface BufferDelta {
  __buf: 1;
  len: number;
  runs: BufferRun[];
}

/** Client to server: a write. */
export interface PatchRequest {
  type: 'patch';
  messageId: string;
  documentPatches?: Patch[];
  ephemeralPatches?: Patch[];
}

/** Client to server: the first frame after the socket opens, asking for what changed since `lastTimestamp`. */
export interface ReconnectRequest {
  type: 'reconnect';
  lastTimestamp: number;
  protocolVersion: number;
  documentPatches?: Patch[];
  ephemeralPatches?: Patch[];
}

/** Client to server: swap the auth token of a live connection (SPEC C5). */
export interface AuthRefreshRequest {
  type: 'auth-refresh';
  token: string;
}

/** Every frame a client may send. */
export type ClientMessage = PatchRequest | ReconnectRequest | AuthRefreshRequest;

/** Server to client: a write was handled; `timestamp` is the room clock afterwards. */
export interface AckResponse {
  type: 'ack';
  messageId: string;
  timestamp: number;
}

/**
 * Server to client: writes by another client (or by the server, `clientId: ''`).
 * `timestamp` is present exactly when `documentPatches` is.
 */
export interface PatchBroadcast {
  type: 'patch';
  documentPatches?: Patch[];
  ephemeralPatches?: Patch[];
  clientId: string;
  timestamp?: number;
}

/** Server to client: how many sessions the room has. */
export interface ClientCountBroadcast {
  type: 'clientCount';
  count: number;
}

/** Server to client: the client's `protocolVersion` is not ours. */
export interface VersionMismatchResponse {
  type: 'version-mismatch';
  serverProtocolVersion: number;
}

/**
 * Server to client: the server holds an older clock than the client has seen
 * (it lost writes); the client answers with a patch of everything newer than `since` (SPEC D8).
 */
export interface ResyncRequest {
  type: 'resync';
  since: number;
}

/** Server to client: the reconnect reply is complete. */
export interface SyncedResponse {
  type: 'synced';
  timestamp: number;
}

/**
 * Server to client: a frame was rejected and nothing of it applied (SPEC B3).
 * The published client ignores frame types it does not know.
 */
export interface ErrorResponse {
  type: 'error';
  code: string;
  message: string;
  /** The `messageId` of the rejected frame, when it had a readable one. */
  messageId?: string;
}

/** Every frame the server sends. */
export type ServerMessage =
  | AckResponse
  | PatchBroadcast
  | ClientCountBroadcast
  | VersionMismatchResponse
  | ResyncRequest
  | SyncedResponse
  | ErrorResponse;
