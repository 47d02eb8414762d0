import { CloseCode } from 'canvas-store-protocol';

/** Close codes after which reconnecting would fail the same way: the client stays offline. */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.BadRequest,
  CloseCode.Unauthorized,
  CloseCode.Forbidden,
  CloseCode.InvalidFrames,
  CloseCode.FrameTooLarge,
]);

/**
 * Whether to reconnect after the socket closed with `code`. Authorization
 * failures, malformed requests and frames the server refuses are final (the
 * same token or frame would be refused again). An expired token is final only
 * when the token is a fixed string; a token function yields a fresh one.
 * Everything else (going away, abnormal closure, rate limits, a full or
 * unavailable room) is retried with backoff.
 */
export function shouldReconnect(code: number, tokenIsFunction: boolean): boolean {
  if (code === CloseCode.TokenExpired) return tokenIsFunction;
  return !FINAL_CLOSE_CODES.has(code);
}
