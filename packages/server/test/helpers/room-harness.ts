import { Room, type RoomOptions, type SessionPermission, silentLogger } from '../../src/index.js';
import { FakeSocket } from './fake-socket.js';

/** A connected fake client: its socket, session id and helpers to send frames. */
export interface FakeClient {
  socket: FakeSocket;
  sessionId: string;
  clientId: string;
  send(frame: unknown): void;
  sendRaw(text: string): void;
}

/**
 * A room with a silent logger unless told otherwise. These unit tests read
 * frames synchronously, one by one, so presence is sent uncoalesced
 * (`presenceTickMs: 0`, the published server's behaviour) unless a test asks
 * for a tick; coalescing (SPEC R1, R2) is tested in `test/big-rooms/`.
 */
export function createRoom(options: RoomOptions = {}): Room {
  return new Room({ logger: silentLogger, presenceTickMs: 0, ...options });
}

let clientCounter = 0;

/** Connects a fake socket to `room`. */
export function connect(
  room: Room,
  options: {
    clientId?: string;
    permissions?: SessionPermission;
    metadata?: unknown;
    /** The socket to connect; a new {@link FakeSocket} by default. */
    socket?: FakeSocket;
  } = {},
): FakeClient {
  const socket = options.socket ?? new FakeSocket();
  const clientId = options.clientId ?? `client-${++clientCounter}`;
  const sessionId = room.handleSocketConnect({
    socket,
    clientId,
    permissions: options.permissions ?? 'readwrite',
    metadata: options.metadata,
  });
  return {
    socket,
    sessionId,
    clientId,
    send: (frame) => room.handleSocketMessage(sessionId, JSON.stringify(frame)),
    sendRaw: (text) => room.handleSocketMessage(sessionId, text),
  };
}
