import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { CloseCode } from 'canvas-store-protocol';
import type { Counter } from 'prom-client';
import type { AuthorizeInfo } from '../../connection/accept-connection.js';
import { ConnectionRefusedError } from '../../connection/errors.js';
import { parseConnectUrl } from '../../connection/parse-connect-url.js';
import { RateLimitedLog } from '../../room/rate-limited-log.js';
import type { ServerLogger } from '../observability/create-logger.js';
import { PrincipalLedger } from './principal-ledger.js';
import { addressPrincipal } from './remote-address.js';

/** The limits a {@link ConnectionGuard} enforces (SPEC B8). */
interface ConnectionGuardLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxRoomsPerAddress: number;
  maxConnectionsPerSubject: number;
  maxRoomsPerSubject: number;
  handshakeTimeoutMs: number;
}

/** The limits named in metrics and logs. */
type GuardLimit =
  | 'connections'
  | 'connections-per-address'
  | 'rooms-per-address'
  | 'connections-per-subject'
  | 'rooms-per-subject'
  | 'handshake-timeout'
  | 'admin-secret-failures';

/** A refusal before the upgrade, answered with an HTTP status. */
interface HttpRefusal {
  status: 429;
  retryAfterSeconds: number;
  limit: GuardLimit;
}

/** What a refused client is told to wait before trying again: quotas free up as sessions end. */
const RETRY_AFTER_SECONDS = 10;

/**
 * Per-principal quotas and the handshake deadline (SPEC B8). TCP connections
 * are counted per remote address and in total from the moment they open, so
 * half-open sockets count too; distinct rooms per address are checked on the
 * upgrade request (HTTP 429 with `Retry-After`); connections and distinct
 * rooms per token subject once the token is verified (close code 4439). A
 * connection that has not sent a request, or has not finished its upgrade and
 * authorization, within the handshake timeout is dropped (4408 once upgraded).
 */
export class ConnectionGuard {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly roomsByAddress: PrincipalLedger;
  private readonly bySubject: PrincipalLedger;
  /** The handshake deadline of each connection still in its handshake, and what missing it does. */
  private readonly deadlines = new WeakMap<Socket, { timer: NodeJS.Timeout; expire: () => void }>();

  constructor(
    private readonly limits: ConnectionGuardLimits,
    private readonly refused: (limit: GuardLimit, fields: Record<string, unknown>) => void,
  ) {
    this.roomsByAddress = new PrincipalLedger({
      maxConnections: Infinity,
      maxRooms: limits.maxRoomsPerAddress,
    });
    this.bySubject = new PrincipalLedger({
      maxConnections: limits.maxConnectionsPerSubject,
      maxRooms: limits.maxRoomsPerSubject,
    });
  }

  /** A guard that counts each refusal in `counter` (by limit) and logs it at a bounded rate. */
  static create(
    limits: ConnectionGuardLimits,
    counter: Counter<'limit'>,
    logger: ServerLogger,
  ): ConnectionGuard {
    const log = new RateLimitedLog(logger);
    return new ConnectionGuard(limits, (limit, fields) => {
      counter.inc({ limit });
      log.log(limit, fields, 'refused: limit reached');
    });
  }

  /**
   * A TCP connection opened. Over the total or per-address cap it is answered
   * with 429 and closed at once; otherwise it is counted until it closes and
   * must send a request before the handshake deadline.
   */
  onTcpConnection(socket: Socket): void {
    const address = addressPrincipal(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    const limit: GuardLimit | undefined =
      this.open >= this.limits.maxConnections
        ? 'connections'
        : fromAddress >= this.limits.maxConnectionsPerAddress
          ? 'connections-per-address'
          : undefined;
    if (limit) {
      this.refused(limit, { address });
      refuseSocket(socket, { status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS, limit });
      return;
    }
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.open--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      this.clearDeadline(socket);
    });
    this.startDeadline(socket, address, () => socket.destroy());
  }

  /** A plain HTTP request arrived: from now on Node's own request timeouts apply. */
  onRequest(req: IncomingMessage): void {
    this.clearDeadline(req.socket);
  }

  /**
   * An upgrade request: charges its room to the remote address. Returns a
   * refusal, or the release to call when the connection closes. A URL that
   * names no room is let through: the connection refuses it with 4400.
   */
  admitUpgrade(req: IncomingMessage): HttpRefusal | (() => void) {
    const roomId = roomIdOf(req.url);
    if (roomId === undefined) return () => {};
    const address = addressPrincipal(req.socket.remoteAddress);
    const admitted = this.roomsByAddress.admit(address, roomId);
    if (typeof admitted === 'function') return admitted;
    this.refused('rooms-per-address', { address, roomId });
    return { status: 429, retryAfterSeconds: RETRY_AFTER_SECONDS, limit: 'rooms-per-address' };
  }

  /**
   * Called with each verified token: charges a new connection to its subject
   * (see {@link admitSubject}) and, with `bindClientId`, checks that the
   * clientId belongs to it (SPEC B9), refusing with `Forbidden`. On a refresh
   * (no request) only the binding is checked. Returns the release.
   */
  admitPrincipal(
    info: AuthorizeInfo<IncomingMessage>,
    metadata: Record<string, unknown> | undefined,
    bindClientId: boolean,
  ): () => void {
    const subject = typeof metadata?.userId === 'string' ? metadata.userId : undefined;
    if (bindClientId && !clientIdBelongsTo(info.clientId, subject)) {
      throw new ConnectionRefusedError('clientId does not belong to the token subject', CloseCode.Forbidden);
    }
    if (info.request === undefined) return () => {};
    return this.admitSubject(subject, info.roomId);
  }

  /**
   * Charges a verified connection to its token subject; throws
   * {@link ConnectionRefusedError} with `TooManyForPrincipal` when the subject
   * holds its quota. Tokens without a subject are charged to nobody (the
   * address quotas still hold). Returns the release.
   */
  admitSubject(subject: string | undefined, roomId: string): () => void {
    if (subject === undefined) return () => {};
    const admitted = this.bySubject.admit(subject, roomId);
    if (typeof admitted === 'function') return admitted;
    const limit: GuardLimit = admitted === 'connections' ? 'connections-per-subject' : 'rooms-per-subject';
    this.refused(limit, { subject, roomId });
    throw new ConnectionRefusedError(
      admitted === 'connections' ? 'too many connections for this user' : 'too many rooms open for this user',
      CloseCode.TooManyForPrincipal,
    );
  }

  /** An admin request was refused because its address sent too many wrong secrets. */
  refusedAdmin(address: string): void {
    this.refused('admin-secret-failures', { address });
  }

  /** The upgraded connection is a session (or was refused): its handshake is over. */
  handshakeDone(socket: Socket): void {
    this.clearDeadline(socket);
  }

  /**
   * Sets what missing the deadline does once the connection is upgraded
   * (closing it with 4408 rather than cutting the socket). A deadline already
   * running stays where it was: it counts from the TCP connection. A
   * connection that served plain requests before upgrading gets a new one.
   */
  onUpgradedDeadline(socket: Socket, expire: () => void): void {
    const running = this.deadlines.get(socket);
    if (running) running.expire = expire;
    else this.startDeadline(socket, addressPrincipal(socket.remoteAddress), expire);
  }

  private startDeadline(socket: Socket, address: string, expire: () => void): void {
    const deadline = {
      timer: setTimeout(() => {
        this.refused('handshake-timeout', { address });
        deadline.expire();
      }, this.limits.handshakeTimeoutMs).unref(),
      expire,
    };
    this.deadlines.set(socket, deadline);
  }

  private clearDeadline(socket: Socket): void {
    const deadline = this.deadlines.get(socket);
    if (deadline) clearTimeout(deadline.timer);
    this.deadlines.delete(socket);
  }
}

/** The room an upgrade request names, or undefined when its URL is unusable. */
function roomIdOf(url: string | undefined): string | undefined {
  try {
    return parseConnectUrl(url ?? '').roomId;
  } catch {
    return undefined;
  }
}

/** With `bindClientId`: the clientId is the subject itself or `<subject>:<anything>`. */
function clientIdBelongsTo(clientId: string, subject: string | undefined): boolean {
  return subject !== undefined && (clientId === subject || clientId.startsWith(`${subject}:`));
}

/**
 * Answers a socket with `429 Too Many Requests` and closes it. Reading stops
 * first, so the request it may already be sending is never parsed or served.
 */
export function refuseSocket(socket: Socket, refusal: HttpRefusal): void {
  socket.pause();
  socket.end(
    `HTTP/1.1 ${refusal.status} Too Many Requests\r\nRetry-After: ${refusal.retryAfterSeconds}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    () => socket.destroy(),
  );
}
