/**
 * canvas-store-client: a browser and Node client for canvas-store-server
 * (wire protocol version 2): offline-first, reconnecting, converging.
 *
 * @packageDocumentation
 */

export { applyBufferDelta, encodeBufferDelta, isBufferDelta } from './buffer-delta.js';
export { CanvasStoreClient } from './canvas-store-client.js';
export type {
  ClientEvents,
  ClientListener,
  ConnectionStatus,
  DocumentView,
} from './client-events.js';
export type {
  CanvasStoreClientOptions,
  ReconnectOptions,
  WebSocketConstructor,
} from './client-options.js';
export type { ClientSocket } from './client-socket.js';
export { shouldReconnect } from './close-policy.js';
export { connectUrl } from './connect-url.js';
export { PRESENCE_PREFIX, presenceKey } from './presence.js';
export {
  type AckResponse,
  type BufferDelta,
  CloseCode,
  type ComponentData,
  type Patch,
  type PatchBroadcast,
  PROTOCOL_VERSION,
  type ServerMessage,
} from './protocol.js';
