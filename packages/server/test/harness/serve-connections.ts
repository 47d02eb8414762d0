/**
 * The one wiring of a `ws` server to `acceptConnection`, as the published
 * README and examples/basic-server.mjs wire it: each socket's messages, close
 * and errors go to its connection handle. Used with our `acceptConnection`
 * (the crash server, the client harness) and with the published server's
 * (the server benchmark's wrapper, the client package's tests); the storage
 * benchmark's server child uses it with both. The handles of both servers
 * have the same shape. (examples/basic-server.mjs keeps its own copy: it is
 * the page users copy from, and must stand alone.)
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';

/** What both servers' `acceptConnection` returns, as far as a socket is concerned. */
interface SocketConnection {
  readonly ready: Promise<unknown>;
  onMessage(data: string): void;
  onClose(): void;
  onError(): void;
}

/** Decodes a `ws` message, whatever form ws hands it over in, as UTF-8 text. */
export function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * Hands every connection of `wss` to `accept` and wires its socket to the
 * handle `accept` returns; a refused connection's error goes to `onRefused`
 * (the handle has already closed the socket).
 */
function serveConnections(
  wss: WebSocketServer,
  accept: (socket: WebSocket, request: IncomingMessage) => SocketConnection,
  onRefused: (error: unknown) => void,
): void {
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const connection = accept(socket, request);
    socket.on('message', (data: RawData) => connection.onMessage(rawToString(data)));
    socket.on('close', () => connection.onClose());
    socket.on('error', () => connection.onError());
    connection.ready.catch(onRefused);
  });
}

/** The options every connection of {@link serveEveryone} gets: its socket, and full write access. */
interface OpenConnectionOptions {
  socket: WebSocket;
  url: string;
  request: IncomingMessage;
  authorize: () => { permissions: 'readwrite' };
}

/**
 * {@link serveConnections} through `accept` (either server's `acceptConnection`)
 * with every client authorized readwrite, whatever its token (a test or
 * benchmark server); `options` adds the rest (`manager`, `roomOptions`).
 */
export function serveEveryone<TOptions extends object>(
  wss: WebSocketServer,
  accept: (options: OpenConnectionOptions & TOptions) => SocketConnection,
  options: TOptions,
  onRefused: (error: unknown) => void,
): void {
  serveConnections(
    wss,
    (socket, request) =>
      accept({
        socket,
        url: request.url ?? '',
        request,
        authorize: () => ({ permissions: 'readwrite' }),
        ...options,
      }),
    onRefused,
  );
}
