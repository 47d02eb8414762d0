import type { Duplex } from 'node:stream';

/** Answers an upgrade request with a plain HTTP status (and an optional text body) and ends the socket. */
export function rejectUpgrade(socket: Duplex, status: number, text: string, body = ''): void {
  const type = body ? 'Content-Type: text/plain; charset=utf-8\r\n' : '';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
