import { randomUUID } from 'node:crypto';
import { CloseCode } from 'canvas-store-protocol';
import {
  type AcceptConnectionOptions,
  type AuthorizeResult,
  acceptConnection,
  type PendingConnection,
} from '../connection/accept-connection.js';
import { ConnectionClosedError, ConnectionRefusedError, ConnectRequestError } from '../connection/errors.js';
import { parseConnectUrl } from '../connection/parse-connect-url.js';
import type { Room } from '../room/room.js';
import { ForwardedRefresh } from './forwarded-refresh.js';
import type { LinkMessage } from './link-messages.js';

/** Where a room is served: here (`done` must be called once the room is open or the attempt failed), or on `node`. */
export type Route = { local: true; done: () => void } | { local: false; node: string };

/** What a {@link ClusterConnection} needs of the router. */
export interface ConnectionRouter {
  route(roomId: string): Promise<Route>;
  send(node: string, message: LinkMessage): void;
  registerOutbound(sid: string, connection: ClusterConnection): void;
  unregisterOutbound(sid: string): void;
  /**
   * How long a forwarded session waits for the owner's answer to `open` before
   * it is closed with 1012 (the `open` or its answer was lost, SPEC K5).
   */
  readonly openAnswerTimeoutMs: number;
  /** The longest wait for that answer while the owner's link keeps delivering (see {@link heardFrom}). */
  readonly maxOpenAnswerMs: number;
  /** True when an envelope from `node` arrived within the last `withinMs`. */
  heardFrom(node: string, withinMs: number): boolean;
  /** Counts a pending open that timed out. */
  openTimedOut(): void;
}

/** What `ready` resolves to: the room when the session is served here. */
export interface ClusterConnectionReady {
  roomId: string;
  sessionId: string;
  room: Room | undefined;
}

type State = 'pending' | 'local' | 'opening' | 'forwarded' | 'closed';
type OpenAnswer = { opened: true } | { opened: false; holder: string | undefined };

const MAX_ROUTE_ATTEMPTS = 5;
const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;

/** The close code for a refused authorization, as `acceptConnection` chooses it. */
function refusalCode(error: unknown): number {
  if (error instanceof ConnectionRefusedError && error.closeCode >= 4000 && error.closeCode <= 4999) {
    return error.closeCode;
  }
  return CloseCode.Unauthorized;
}

/**
 * One client socket of this node in cluster mode (SPEC K1, K3). It authorizes
 * the client here, then either serves it from the local room (through the
 * ordinary `acceptConnection`) or forwards it to the room's owner: frames go
 * to the owner in order, the owner's frames come back and are written to the
 * socket. Frames that arrive before the session exists are held (SPEC C3).
 */
export class ClusterConnection {
  readonly ready: Promise<ClusterConnectionReady>;
  readonly sid = randomUUID();
  private state: State = 'pending';
  private held: string[] = [];
  private heldBytes = 0;
  private inner: PendingConnection | undefined;
  private owner: string | undefined;
  private answer: ((answer: OpenAnswer) => void) | undefined;
  /** Checks refreshed tokens on this node while the session is forwarded (SPEC C5). */
  private refresh: ForwardedRefresh | undefined;

  constructor(
    private readonly router: ConnectionRouter,
    private readonly options: AcceptConnectionOptions,
  ) {
    this.ready = this.start();
    this.ready.catch(() => {});
  }

  /** The node serving this session, once known (this node's id is never used here). */
  get ownerNode(): string | undefined {
    return this.owner;
  }

  onMessage(data: string): void {
    switch (this.state) {
      case 'local':
        this.inner?.onMessage(data);
        return;
      case 'forwarded':
        this.forwardFrame(this.owner as string, data);
        return;
      case 'closed':
        return;
      default:
        this.heldBytes += data.length;
        if (this.heldBytes > (this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES)) {
          this.fail(CloseCode.TooManyPendingFrames, 'too many frames before the connection was ready');
          return;
        }
        this.held.push(data);
    }
  }

  onClose(): void {
    this.end(false);
  }

  onError(): void {
    this.end(true);
  }

  /** The owner accepted or refused the forwarded session. */
  answered(answer: OpenAnswer): void {
    this.answer?.(answer);
  }

  /** A frame from the owner for this client. */
  deliver(data: string): void {
    if (this.state !== 'closed') this.options.socket.send(data);
  }

  /** The owner closed the session. */
  closedByOwner(code: number, reason: string): void {
    this.router.unregisterOutbound(this.sid);
    this.answer?.({ opened: false, holder: undefined });
    this.fail(code, reason);
  }

  /**
   * The link to the owner lost messages, the owner died, or this node is
   * stopping: close the client with 1012 so it reconnects (SPEC K4, K5, K7).
   */
  restart(reason: string): void {
    if (this.state === 'closed') return;
    if (this.owner !== undefined) this.router.send(this.owner, { t: 'gone', sid: this.sid });
    this.router.unregisterOutbound(this.sid);
    this.answer?.({ opened: false, holder: undefined });
    this.fail(CloseCode.ServiceRestart, reason);
  }

  private end(error: boolean): void {
    const previous = this.state;
    this.state = 'closed';
    this.held = [];
    this.refresh?.stop();
    if (previous === 'local') {
      if (error) this.inner?.onError();
      else this.inner?.onClose();
    } else if ((previous === 'forwarded' || previous === 'opening') && this.owner !== undefined) {
      this.router.send(this.owner, { t: 'gone', sid: this.sid });
      this.router.unregisterOutbound(this.sid);
    }
    this.answer?.({ opened: false, holder: undefined });
  }

  private async start(): Promise<ClusterConnectionReady> {
    const { request, authorize } = this.options;
    let roomId: string;
    let clientId: string;
    let token: string;
    try {
      ({ roomId, clientId, token } = parseConnectUrl(this.options.url));
      this.refresh = new ForwardedRefresh(this.options.authorize, { roomId, clientId });
    } catch (error) {
      this.fail(
        CloseCode.BadRequest,
        error instanceof ConnectRequestError ? error.message : 'bad connect URL',
      );
      throw error;
    }
    let granted: AuthorizeResult;
    try {
      granted = await authorize({ roomId, clientId, token, request });
    } catch (error) {
      this.fail(refusalCode(error), error instanceof ConnectionRefusedError ? error.message : 'unauthorized');
      throw error;
    }
    for (let attempt = 0; attempt < MAX_ROUTE_ATTEMPTS; attempt++) {
      this.throwIfClosed();
      let route: Route;
      try {
        route = await this.router.route(roomId);
      } catch (error) {
        this.fail(CloseCode.ServiceRestart, 'no node can serve the room now');
        throw error;
      }
      if (this.state === 'closed') {
        if (route.local) route.done();
        throw new ConnectionClosedError();
      }
      if (route.local) return this.serveLocally(roomId, granted, route.done);
      const answer = await this.forward(route.node, roomId, granted);
      if (answer.opened) {
        this.state = 'forwarded';
        for (const data of this.held) this.forwardFrame(route.node, data);
        this.held = [];
        return { roomId, sessionId: this.sid, room: undefined };
      }
      this.router.unregisterOutbound(this.sid);
      this.owner = undefined;
    }
    this.fail(CloseCode.ServiceRestart, 'the room is moving between nodes; reconnect');
    throw new Error(`no owner accepted room ${roomId}`);
  }

  private async serveLocally(
    roomId: string,
    granted: AuthorizeResult,
    done: () => void,
  ): Promise<ClusterConnectionReady> {
    let first = true;
    const inner = acceptConnection({
      ...this.options,
      // Authorized above: the first call is the connect; later ones are token refreshes (SPEC C5).
      authorize: (info) => {
        if (!first) return this.options.authorize(info);
        first = false;
        return granted;
      },
    });
    this.inner = inner;
    this.state = 'local';
    for (const data of this.held) inner.onMessage(data);
    this.held = [];
    try {
      const { room, sessionId } = await inner.ready;
      return { roomId, sessionId, room };
    } finally {
      done();
    }
  }

  private forward(node: string, roomId: string, granted: AuthorizeResult): Promise<OpenAnswer> {
    this.owner = node;
    this.state = 'opening';
    this.router.registerOutbound(this.sid, this);
    this.router.send(node, {
      t: 'open',
      sid: this.sid,
      roomId,
      url: this.options.url,
      permissions: granted.permissions,
      metadata: granted.metadata ?? null,
    });
    return new Promise<OpenAnswer>((resolve) => {
      const { openAnswerTimeoutMs, maxOpenAnswerMs } = this.router;
      const started = performance.now();
      // A lost `open` or answer shows as a sequence gap, which closes the session
      // sooner; this bounds the wait whatever else is lost. An owner whose link
      // keeps delivering (keep-alives included) without a gap has the join and is
      // still opening the room (loading it, say): it gets more time, up to a cap.
      const expire = () => {
        const waited = performance.now() - started;
        if (waited < maxOpenAnswerMs && this.router.heardFrom(node, openAnswerTimeoutMs / 2)) {
          timer = setTimeout(expire, Math.min(openAnswerTimeoutMs / 3, maxOpenAnswerMs - waited));
          return;
        }
        this.router.openTimedOut();
        this.restart('the room owner did not answer in time');
      };
      let timer = setTimeout(expire, openAnswerTimeoutMs);
      const finish = (answer: OpenAnswer) => {
        clearTimeout(timer);
        this.answer = undefined;
        resolve(answer);
      };
      this.answer = finish;
    });
  }

  /** Sends a client frame to the owner; an `auth-refresh` is also checked here (see {@link ForwardedRefresh}). */
  private forwardFrame(node: string, data: string): void {
    this.refresh?.onFrame(data);
    this.router.send(node, { t: 'frame', sid: this.sid, data });
  }

  private throwIfClosed(): void {
    if (this.state === 'closed') throw new ConnectionClosedError();
  }

  private fail(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.held = [];
    this.refresh?.stop();
    try {
      this.options.socket.close(code, reason);
    } catch {
      // The socket may already be gone.
    }
  }
}
