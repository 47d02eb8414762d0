/**
 * The minimal socket the library needs: works with `ws`, Bun, Deno, Cloudflare
 * and browser-style sockets. `close` may ignore the code and reason.
 *
 * @example
 * ```ts
 * const socket: WebSocketLike = { send: (data) => ws.send(data), close: (code, reason) => ws.close(code, reason) };
 * ```
 */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /**
   * Optional (SPEC B6): the room is about to hold a frame of `length`
   * characters for this socket until earlier writes are durable (O4). A socket
   * that bounds its backlog counts it as queued and returns false, cutting the
   * connection as a slow consumer, when that passes its bound; the room then
   * drops the frame. Without this method held frames are not bounded by the socket.
   */
  reserve?(length: number): boolean;
  /** Optional: a frame {@link reserve}d before leaves the hold (it is sent next, or dropped). */
  unreserve?(length: number): void;
  /**
   * Optional: true while the client is behind, its unsent bytes well past what
   * a reading client has queued. With coalescing off, presence for such a
   * client is folded (latest value per key) instead of queued frame by frame.
   */
  behind?(): boolean;
  /** Optional: calls `listener` once, when a client that was {@link behind} has caught up (or never, once closed). */
  onceCaughtUp?(listener: () => void): void;
}
