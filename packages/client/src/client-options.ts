import type { ClientSocket } from './client-socket.js';

/** The WebSocket constructor the client uses: the browser's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string) => ClientSocket;

/** Reconnection with exponential backoff and jitter. */
export interface ReconnectOptions {
  /** First delay after a lost connection, ms. Default 250. */
  minDelayMs?: number;
  /** Largest delay, ms. Default 10,000. */
  maxDelayMs?: number;
  /** Fraction of each delay that is randomised (0-1). Default 0.5. */
  jitter?: number;
}

/** Options of {@link CanvasStoreClient}. */
export interface CanvasStoreClientOptions {
  /** Server URL, e.g. `ws://localhost:8080/`; `roomId`, `clientId` and `token` are added as query parameters. */
  url: string;
  roomId: string;
  /** Stable id of this client (one per tab/device). Default: a random UUID. */
  clientId?: string;
  /** The auth token, or a function returning a fresh one (called on every (re)connect). */
  token: string | (() => string | Promise<string>);
  /** WebSocket implementation; default `globalThis.WebSocket` (pass `ws`'s `WebSocket` in Node 20). */
  WebSocket?: WebSocketConstructor;
  /**
   * Keep the offline buffer, the last seen clock and the document in IndexedDB
   * (under this database name) so a reload offline loses nothing. Default: memory only.
   */
  persistence?: { indexedDbName: string };
  reconnect?: ReconnectOptions;
  /** Start without connecting (call `connect()` later). Default false. */
  startOffline?: boolean;
  /**
   * Least time between two write frames, ms. Edits made meanwhile are merged
   * into the next frame (buffer deltas compose), which keeps a drawing stroke
   * or a moving cursor well under the server's frame rate limit. Default 33
   * (about 30 frames per second, like the published client); 0 sends every tick.
   */
  sendIntervalMs?: number;
  /**
   * Budget of one write frame. A larger offline buffer (or resync answer) is
   * sent in several frames instead of one the server would refuse. Defaults
   * are half of the server's default limits: 1 MiB and 5,000 keys.
   */
  frameLimits?: { maxFrameBytes?: number; maxKeysPerFrame?: number };
}
