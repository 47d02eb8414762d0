/**
 * The part of a WebSocket the client uses. Both the browser's `WebSocket` and
 * the `ws` package's `WebSocket` (Node) satisfy it.
 */
export interface ClientSocket {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
}

/** `WebSocket.OPEN`. */
export const SOCKET_OPEN = 1;
