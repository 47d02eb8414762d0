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
}
