import type { IncomingMessage } from 'node:http';
import { type AcceptConnectionOptions, acceptConnection } from '../connection/accept-connection.js';
import type { Room } from '../room/room.js';

/** A client socket's session as the server sees it, served here or (cluster mode) forwarded. */
export interface SocketConnection {
  readonly ready: Promise<{ room: Room | undefined; roomId: string; sessionId: string }>;
  onMessage(data: string): void;
  onClose(): void;
  onError(): void;
}

/** A session served by this process's own room (single-node mode). */
export function localConnection(
  options: AcceptConnectionOptions<IncomingMessage, Record<string, unknown>>,
): SocketConnection {
  const connection = acceptConnection(options);
  return {
    ready: connection.ready.then(({ room, sessionId }) => ({ room, roomId: room.roomId ?? '', sessionId })),
    onMessage: (data) => connection.onMessage(data),
    onClose: () => connection.onClose(),
    onError: () => connection.onError(),
  };
}
