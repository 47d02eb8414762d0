import type { ComponentData } from 'canvas-store-protocol';

/**
 * Connection state of a client: `'connecting'` (opening a socket, or waiting to
 * retry), `'online'` (socket open), `'offline'` (not connected and not trying:
 * `disconnect()`, `startOffline`, or a final close code) and `'closed'` (for good).
 */
export type ConnectionStatus = 'connecting' | 'online' | 'offline' | 'closed';

/** Events a {@link CanvasStoreClient} emits, with their payloads. */
export interface ClientEvents {
  /** Document keys changed, locally (`origin: 'local'`) or from the server (`'remote'`). */
  change: { keys: string[]; origin: 'local' | 'remote' };
  /** Another client's presence changed or left (`state: undefined`). */
  presence: { clientId: string; state: Record<string, unknown> | undefined };
  /** The connection status changed (see {@link ConnectionStatus}). */
  status: { status: ConnectionStatus };
  /** The client caught up with the server after (re)connecting. */
  synced: { timestamp: number };
  /**
   * Whether the server has confirmed (acked) every local edit changed, or the
   * number of keys still waiting did. `saved` is `pending === 0`.
   */
  saved: { saved: boolean; pending: number };
  /** The number of sessions in the room changed (0 while offline). */
  clientCount: { count: number };
  /** The server rejected a frame (an `error` frame). */
  error: { code: string; message: string };
  /** The socket closed, with the server's close code (see the server's close-code table). */
  close: { code: number; reason: string };
}

/** A listener of one client event. */
export type ClientListener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

/** The document as the client sees it: key to component fields. */
export type DocumentView = ReadonlyMap<string, Readonly<ComponentData>>;
