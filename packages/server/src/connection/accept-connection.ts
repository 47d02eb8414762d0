import { CloseCode } from 'canvas-store-protocol';
import {
  RoomDroppedError,
  RoomLoadError,
  RoomManagerClosedError,
  TooManyRoomsError,
} from '../manager/errors.js';
import type { RoomManager } from '../manager/room-manager.js';
import { decodeMessage } from '../room/decode-message.js';
import { RoomClosedError, RoomFullError } from '../room/errors.js';
import { FrameQueue } from '../room/frame-queue.js';
import type { Room } from '../room/room.js';
import type { RoomOptions } from '../room/room-options.js';
import { isSessionPermission, type SessionPermission } from '../room/session.js';
import type { WebSocketLike } from '../room/web-socket-like.js';
import { FencedError } from '../storage/fenced-error.js';
import { ConnectionClosedError, ConnectionRefusedError, ConnectRequestError } from './errors.js';
import { type ConnectParams, parseConnectUrl } from './parse-connect-url.js';

/** What `authorize` is told about a connection or an `auth-refresh`. */
export interface AuthorizeInfo<TRequest = unknown> {
  /** Parsed from the URL's `roomId` query parameter. */
  roomId: string;
  /** Parsed from the URL's `clientId` query parameter. */
  clientId: string;
  /** From the URL on connect, from the `auth-refresh` frame on refresh. */
  token: string;
  /** The original request object; `undefined` on token refresh. */
  request: TRequest | undefined;
}

/** What `authorize` grants. */
export interface AuthorizeResult<TMeta = unknown> {
  permissions: SessionPermission;
  metadata?: TMeta;
}

/** Options of {@link acceptConnection}. */
export interface AcceptConnectionOptions<TRequest = unknown, TMeta = unknown> {
  /** The connected socket. */
  socket: WebSocketLike;
  /** Connect URL: full (`wss://host/?…`) or path-and-query (`/?…`). */
  url: string;
  /** Passed verbatim to `authorize`. */
  request?: TRequest;
  /** The room manager. */
  manager: RoomManager;
  /** Called on connect and on every `auth-refresh` frame. Throw to reject. */
  authorize: (info: AuthorizeInfo<TRequest>) => AuthorizeResult<TMeta> | Promise<AuthorizeResult<TMeta>>;
  /** Options for the room, used only when this connection creates it (SPEC C4). */
  roomOptions?: (roomId: string) => Omit<RoomOptions, 'onTokenRefresh'>;
  /** Frames held while authorizing and loading; more closes the socket. Default 256. */
  maxPendingFrames?: number;
  /** Bytes held while authorizing and loading; more closes the socket. Default 8 MiB. */
  maxPendingBytes?: number;
}

/** What `ready` resolves to. */
export interface ConnectionReady {
  room: Room;
  sessionId: string;
}

/**
 * A handle to forward socket events into. Returned at once; `ready` settles
 * when authorization and room loading finish. Messages forwarded before then
 * are held and processed in order afterwards (SPEC C3).
 */
export interface Connection<TMeta = unknown> {
  /** Resolves once the session exists; rejects when authorization, loading or the socket failed. */
  readonly ready: Promise<ConnectionReady>;
  /** The session id, once ready. */
  readonly sessionId: string | undefined;
  /** The room, once ready. */
  readonly room: Room | undefined;
  /** The latest metadata of this session (from `authorize` or a refresh). */
  getMetadata(): TMeta | undefined;
  /** Forward an incoming WebSocket message. */
  onMessage(data: string): void;
  /** Call when the socket closes. */
  onClose(): void;
  /** Call when the socket errors. */
  onError(): void;
}

/** A connection whose session exists: what `await acceptConnection(...)` yields. */
export interface ReadyConnection<TMeta = unknown> extends Connection<TMeta> {
  readonly sessionId: string;
  readonly room: Room;
}

/** The value {@link acceptConnection} returns: usable at once, or awaited for a ready connection. */
export type PendingConnection<TMeta = unknown> = Connection<TMeta> & PromiseLike<ReadyConnection<TMeta>>;

/** The close code for a refused authorization: the error's own (4000-4999) or Unauthorized. */
function refusalCode(error: unknown): number {
  if (error instanceof ConnectionRefusedError && error.closeCode >= 4000 && error.closeCode <= 4999) {
    return error.closeCode;
  }
  return CloseCode.Unauthorized;
}

/** The close code for a room that could not be opened. */
function openFailureCode(error: unknown): number {
  if (error instanceof TooManyRoomsError) return CloseCode.TooManyRooms;
  // Cluster mode: the room moved to another node while it opened here; a reconnect finds it (SPEC K4).
  if (error instanceof RoomDroppedError) return error.code;
  if (error instanceof RoomLoadError && error.cause instanceof FencedError) return CloseCode.ServiceRestart;
  if (error instanceof RoomManagerClosedError) return CloseCode.GoingAway;
  return CloseCode.RoomUnavailable;
}

const DEFAULT_MAX_PENDING_FRAMES = 256;
const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;

type State = 'pending' | 'ready' | 'closed';

class ConnectionHandle<TRequest, TMeta> implements PendingConnection<TMeta> {
  readonly ready: Promise<ConnectionReady>;
  private state: State = 'pending';
  /** Frames that arrive before the session exists (SPEC C3). */
  private readonly held: FrameQueue;
  private readyRoom: Room | undefined;
  private readySessionId: string | undefined;
  private initialMetadata: TMeta | undefined;
  private readonly readyView: ReadyConnection<TMeta>;

  constructor(private readonly options: AcceptConnectionOptions<TRequest, TMeta>) {
    this.held = new FrameQueue(
      options.maxPendingFrames ?? DEFAULT_MAX_PENDING_FRAMES,
      options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    );
    this.ready = this.start();
    // Callers that only `await acceptConnection(...)` never touch `ready`;
    // mark it handled so a refusal does not become an unhandled rejection.
    this.ready.catch(() => {});
    const handle = this;
    this.readyView = {
      ready: this.ready,
      get sessionId() {
        return handle.readySessionId as string;
      },
      get room() {
        return handle.readyRoom as Room;
      },
      getMetadata: () => this.getMetadata(),
      onMessage: (data) => this.onMessage(data),
      onClose: () => this.onClose(),
      onError: () => this.onError(),
    };
  }

  get sessionId(): string | undefined {
    return this.readySessionId;
  }

  get room(): Room | undefined {
    return this.readyRoom;
  }

  // biome-ignore lint/suspicious/noThenProperty: the handle is deliberately awaitable (seed API form).
  then<TResult1 = ReadyConnection<TMeta>, TResult2 = never>(
    onFulfilled?: ((value: ReadyConnection<TMeta>) => TResult1 | PromiseLike<TResult1>) | null,
    onRejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): PromiseLike<TResult1 | TResult2> {
    return this.ready.then(() => this.readyView).then(onFulfilled, onRejected);
  }

  getMetadata(): TMeta | undefined {
    if (this.readyRoom && this.readySessionId !== undefined) {
      return this.readyRoom.getSessionMetadata(this.readySessionId) as TMeta | undefined;
    }
    return this.initialMetadata;
  }

  onMessage(data: string): void {
    if (this.state === 'ready') {
      this.readyRoom?.handleSocketMessage(this.readySessionId as string, data);
      return;
    }
    if (this.state === 'closed') return;
    try {
      if (this.held.push(decodeMessage(data)) !== null) {
        this.fail(CloseCode.TooManyPendingFrames, 'too many frames before the connection was ready');
      }
    } catch {
      this.fail(CloseCode.BadRequest, 'unreadable message');
    }
  }

  onClose(): void {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.held.clear();
    if (wasReady) this.readyRoom?.handleSocketClose(this.readySessionId as string);
  }

  onError(): void {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.held.clear();
    if (wasReady) this.readyRoom?.handleSocketError(this.readySessionId as string);
  }

  private async start(): Promise<ConnectionReady> {
    const { socket, manager, authorize, request } = this.options;
    let params: ConnectParams;
    try {
      params = parseConnectUrl(this.options.url);
    } catch (error) {
      // The reason names the parameter (`connect URL lacks the roomId query parameter`): a
      // bare "bad connect URL" left users guessing while their client reconnected forever.
      this.fail(
        CloseCode.BadRequest,
        error instanceof ConnectRequestError ? error.message : 'bad connect URL',
      );
      throw error;
    }
    const { roomId, clientId, token } = params;
    let granted: AuthorizeResult<TMeta>;
    try {
      granted = await authorize({ roomId, clientId, token, request });
      if (!granted || !isSessionPermission(granted.permissions)) {
        throw new TypeError("authorize must return { permissions: 'readonly' | 'readwrite' }");
      }
    } catch (error) {
      this.fail(refusalCode(error), error instanceof ConnectionRefusedError ? error.message : 'unauthorized');
      throw error;
    }
    this.initialMetadata = granted.metadata;
    const roomOptions = this.options.roomOptions;
    for (let attempt = 0; ; attempt++) {
      this.throwIfClosed();
      let room: Room;
      try {
        room = await manager.openRoom(roomId, roomOptions ? (id) => ({ ...roomOptions(id) }) : undefined);
      } catch (error) {
        this.fail(openFailureCode(error), 'room unavailable');
        throw error;
      }
      this.throwIfClosed();
      try {
        this.readySessionId = room.handleSocketConnect({
          socket,
          clientId,
          permissions: granted.permissions,
          metadata: granted.metadata,
          onTokenRefresh: (newToken) => authorize({ roomId, clientId, token: newToken, request: undefined }),
        });
      } catch (error) {
        // The room may have been closed for idleness between opening and joining: open it again once.
        if (error instanceof RoomClosedError && attempt === 0) continue;
        this.fail(
          error instanceof RoomFullError ? CloseCode.RoomFull : CloseCode.RoomUnavailable,
          'cannot join',
        );
        throw error;
      }
      this.readyRoom = room;
      this.state = 'ready';
      this.drainHeld(room, this.readySessionId);
      return { room, sessionId: this.readySessionId };
    }
  }

  private drainHeld(room: Room, sessionId: string): void {
    // Decoded once, on arrival: the room takes them as text.
    for (const text of this.held.drain()) room.handleDecodedMessage(sessionId, text);
  }

  private throwIfClosed(): void {
    if (this.state === 'closed') throw new ConnectionClosedError();
  }

  private fail(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.held.clear();
    try {
      this.options.socket.close(code, reason);
    } catch {
      // The socket may already be gone; nothing else to release.
    }
  }
}

/**
 * Accepts a WebSocket connection: parses the connect URL, runs `authorize`,
 * opens the room, registers the session and wires `auth-refresh` to the same
 * `authorize` (SPEC C1-C5). Returns a handle at once; `await` it (or its
 * `ready`) for the session. A refusal closes the socket with a close code and
 * rejects.
 *
 * @example
 * ```ts
 * wss.on('connection', (ws, req) => {
 *   const conn = acceptConnection({
 *     socket: ws,
 *     url: req.url ?? '',
 *     request: req,
 *     manager,
 *     authorize: async ({ token }) => ({ permissions: token === 'viewer' ? 'readonly' : 'readwrite' }),
 *   });
 *   ws.on('message', (data) => conn.onMessage(String(data)));
 *   ws.on('close', () => conn.onClose());
 *   ws.on('error', () => conn.onError());
 *   conn.ready.catch((err) => console.warn('refused', err));
 * });
 * ```
 */
export function acceptConnection<TRequest = unknown, TMeta = unknown>(
  options: AcceptConnectionOptions<TRequest, TMeta>,
): PendingConnection<TMeta> {
  return new ConnectionHandle(options);
}
