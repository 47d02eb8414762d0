/**
 * Malformed connect attempts and non-WebSocket requests run alongside the
 * fuzz, each with the refusal it must get.
 */
import { connect as tcpConnect } from 'node:net';
import { WebSocket } from 'ws';

type Refusal = { close: number } | { status: number } | { nothing: true };

function attemptWebSocket(port: number, path: string): Promise<Refusal> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('close', (code) => resolve({ close: code }));
    ws.on('error', () => {});
  });
}

/**
 * Writes raw bytes on a TCP connection and reads the HTTP status line the
 * server answers with. `halfClose` ends our side at once (for a request cut
 * short); otherwise the request asks the server to close when it has answered.
 */
function attemptRaw(port: number, request: string, halfClose = false): Promise<Refusal> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve(match ? { status: Number(match[1]) } : { nothing: true });
    });
    socket.write(Buffer.from(request, 'latin1'));
    if (halfClose) socket.end();
  });
}

/** Malformed connect attempts and non-WebSocket requests, each with the refusal it must get (C1, B3). */
export function badConnects(
  port: number,
): Array<{ name: string; run: () => Promise<Refusal>; expected: Refusal }> {
  const q = (params: Record<string, string>) => `/?${new URLSearchParams(params)}`;
  const upgrade = (method: string, headers: string) =>
    `${method} ${q({ roomId: 'r', clientId: 'c', token: 't' })} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`;
  const ws = (name: string, path: string, expected: Refusal) => ({
    name,
    run: () => attemptWebSocket(port, path),
    expected,
  });
  const raw = (name: string, request: string, expected: Refusal, halfClose = false) => ({
    name,
    run: () => attemptRaw(port, request, halfClose),
    expected,
  });
  // The server refuses these before the upgrade, with a body naming the parameter.
  const badRequest = { status: 400 };
  return [
    ws('no query', '/', badRequest),
    ws('no roomId', q({ clientId: 'c', token: 't' }), badRequest),
    ws('no clientId', q({ roomId: 'r', token: 't' }), badRequest),
    ws('no token', q({ roomId: 'r', clientId: 'c' }), badRequest),
    ws('empty roomId', q({ roomId: '', clientId: 'c', token: 't' }), badRequest),
    ws('roomId of 513 characters', q({ roomId: 'r'.repeat(513), clientId: 'c', token: 't' }), badRequest),
    ws('clientId of 513 characters', q({ roomId: 'r', clientId: 'c'.repeat(513), token: 't' }), badRequest),
    ws('roomId holding NUL', '/?roomId=a%00b&clientId=c&token=t', badRequest),
    ws(
      'roomId of 20,000 characters (past the 16 KB header limit)',
      q({ roomId: 'r'.repeat(20_000), clientId: 'c', token: 't' }),
      {
        status: 431,
      },
    ),
    raw(
      'plain GET without upgrade',
      `GET ${q({ roomId: 'r', clientId: 'c', token: 't' })} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      {
        status: 200,
      },
    ),
    raw(
      'POST with a binary body',
      'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\n\x00\x01{[x',
      {
        status: 404,
      },
    ),
    raw(
      'upgrade with protocol version 99',
      upgrade('GET', 'Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'),
      {
        status: 400,
      },
    ),
    raw('upgrade without a key', upgrade('GET', 'Sec-WebSocket-Version: 13\r\n'), { status: 400 }),
    raw(
      'upgrade by POST',
      upgrade('POST', 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'),
      {
        status: 405,
      },
    ),
    raw('a TLS hello on the plain port', '\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00', { status: 400 }),
    raw('a 20 KB header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, {
      status: 431,
    }),
    raw('a request line cut short', 'GET /?roomId=', { status: 400 }, true),
  ];
}
