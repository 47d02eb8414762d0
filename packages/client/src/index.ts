/**
 * canvas-store-client: a browser and Node client for canvas-store-server
 * (wire protocol version 2): offline-first, reconnecting, converging.
 *
 * @packageDocumentation
 */

// The client shares only the wire protocol with the server: canvas-store-protocol.
export {
  type AckResponse,
  applyBufferDelta,
  type BufferDelta,
  CloseCode,
  type ComponentData,
  isBufferDelta,
  type Patch,
  type PatchBroadcast,
  PROTOCOL_VERSION,
  type ServerMessage,
} from 'canvas-store-protocol';
export { encodeBufferDelta } from './buffer-delta.js';
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
