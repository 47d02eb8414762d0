import type { Duplex } from 'node:stream';

/**
 * Refuses a WebSocket upgrade with a plain HTTP answer (and a short text body
 * saying why, when given), then ends the connection.
 */
export function rejectUpgrade(socket: Duplex, status: number, text: string, body = ''): void {
  const type = body ? 'Content-Type: text/plain; charset=utf-8\r\n' : '';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
