import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_ID_LENGTH } from '../../connection/parse-connect-url.js';
import type { RoomManager } from '../../manager/room-manager.js';
import { CloseCode } from '../../protocol/close-codes.js';
import { isStorableName } from '../../protocol/forbidden-names.js';
import type { Room } from '../../room/room.js';
import type { StorageBackend } from '../../storage/storage-backend.js';
import type { ServerLogger } from '../observability/create-logger.js';
import { addressPrincipal } from '../principals/remote-address.js';
import { AdminThrottle } from './admin-throttle.js';
import { BadRequestBody, readJsonBody, sendJson } from './http-helpers.js';

const MAX_ADMIN_BODY_BYTES = 4 * 1024 * 1024;

/** What the admin API shows and asks of the cluster (cluster mode only). */
export interface AdminClusterView {
  /** This node's view: its id, live nodes, owned rooms. */
  status(): object;
  /** Which node owns which room, across the cluster. */
  listLeases(): Promise<Array<{ roomId: string; node: string; epoch: number }>>;
  /** The node serving `roomId`; here only when this node holds (or now took) its lease. */
  route(roomId: string): Promise<{ local: true; done: () => void } | { local: false; node: string }>;
}

/** Options of {@link AdminApi} beyond its secret and collaborators. */
interface AdminApiOptions {
  /** In cluster mode: `GET /admin/cluster`, and room routes answered only by the room's owner. */
  cluster?: AdminClusterView;
  /** Wrong secrets one address may send per minute before it is answered 429. Default 10. */
  failuresPerMinute?: number;
  /** Told of each request refused by the throttle (for metrics and a rate-limited log). */
  onThrottled?: (address: string) => void;
}

/** Room and session ids the admin API accepts: the rules of the connect URL (SPEC C1, B9). */
function validId(value: string): boolean {
  return value !== '' && value.length <= MAX_ID_LENGTH && isStorableName(value);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * The admin HTTP API, behind its own bearer secret: list rooms and sessions,
 * read a room's document, apply a patch as the server, close a session,
 * delete a room. Routes (all under `/admin`):
 *
 * - `GET /admin/rooms`: open rooms with their session counts and clocks
 * - `GET /admin/rooms/:roomId`: one room's clock and sessions (opens it)
 * - `GET /admin/rooms/:roomId/document`: the live document with stamps
 * - `POST /admin/rooms/:roomId/patches` with `{ "patches": [...] }`: a server-side edit
 * - `DELETE /admin/rooms/:roomId/sessions/:sessionId`: close a session
 * - `DELETE /admin/rooms/:roomId`: close a room and delete its stored data
 * - `GET /admin/cluster` (cluster mode): this node, the live nodes and which node owns which room
 *
 * In cluster mode a room's routes are answered by its owner; other nodes answer
 * 409 naming the owner.
 */
export class AdminApi {
  private readonly secretDigest: Buffer;
  private readonly throttle: AdminThrottle;

  constructor(
    secret: string,
    private readonly manager: RoomManager,
    private readonly storage: StorageBackend,
    private readonly logger: ServerLogger,
    private readonly options: AdminApiOptions = {},
  ) {
    this.secretDigest = digest(secret);
    this.throttle = new AdminThrottle(options.failuresPerMinute ?? 10);
  }

  /** True when the request carries the admin secret (compared in constant time). */
  isAuthorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    return match !== null && timingSafeEqual(digest(match[1] as string), this.secretDigest);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const address = addressPrincipal(req.socket.remoteAddress);
    const wait = this.throttle.retryAfterSeconds(address);
    if (wait > 0) {
      this.options.onThrottled?.(address);
      res.setHeader('retry-after', String(wait));
      sendJson(res, 429, { error: 'too many wrong admin secrets; retry later' });
      return;
    }
    if (!this.isAuthorized(req)) {
      this.throttle.failed(address);
      res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, 401, { error: 'admin secret required' });
      return;
    }
    const parts = path.split('/').filter((part) => part !== '');
    let segments: string[];
    try {
      segments = parts.map((part) => decodeURIComponent(part));
    } catch {
      sendJson(res, 400, { error: 'malformed path' });
      return;
    }
    try {
      await this.route(req, res, segments);
    } catch (error) {
      if (error instanceof BadRequestBody) {
        if (error.status === 413) res.setHeader('connection', 'close');
        sendJson(res, error.status, { error: error.message });
        return;
      }
      this.logger.error({ err: error }, 'admin request failed');
      sendJson(res, 500, { error: 'internal error' });
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
    const [admin, rooms, roomId, sub, sessionId] = segments;
    const method = req.method ?? 'GET';
    const cluster = this.options.cluster;
    if (admin === 'admin' && rooms === 'cluster' && segments.length === 2 && cluster) {
      if (method !== 'GET') return this.methodNotAllowed(res);
      sendJson(res, 200, { node: cluster.status(), rooms: await cluster.listLeases() });
      return;
    }
    if (admin !== 'admin' || rooms !== 'rooms' || segments.length > 5) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    for (const [name, id] of [
      ['roomId', roomId],
      ['sessionId', sessionId],
    ] as const) {
      if (id !== undefined && !validId(id)) {
        sendJson(res, 400, {
          error: `${name} must be 1-${MAX_ID_LENGTH} characters without NUL or unpaired surrogates`,
        });
        return;
      }
    }
    if (roomId === undefined) {
      if (method !== 'GET') return this.methodNotAllowed(res);
      const list = this.manager
        .getRoomIds()
        .map((id) => this.describeRoom(id, this.manager.getExistingRoom(id)));
      sendJson(res, 200, { rooms: list });
      return;
    }
    if (cluster) {
      const route = await cluster.route(roomId);
      if (!route.local) {
        sendJson(res, 409, {
          error: `room ${roomId} is served by node ${route.node}; ask that node`,
          owner: route.node,
        });
        return;
      }
      try {
        await this.roomRoute(req, res, method, roomId, sub, sessionId);
      } finally {
        route.done();
      }
      return;
    }
    await this.roomRoute(req, res, method, roomId, sub, sessionId);
  }

  private async roomRoute(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    roomId: string,
    sub: string | undefined,
    sessionId: string | undefined,
  ): Promise<void> {
    if (sub === undefined) {
      if (method === 'GET') {
        const room = await this.manager.getRoom(roomId);
        sendJson(res, 200, { ...this.describeRoom(roomId, room), sessions: room.getSessions() });
        return;
      }
      if (method === 'DELETE') {
        await this.manager.closeRoom(roomId);
        await this.storage.deleteRoom(roomId);
        this.logger.info({ roomId }, 'room deleted through the admin API');
        res.writeHead(204).end();
        return;
      }
      return this.methodNotAllowed(res);
    }
    if (sub === 'document' && sessionId === undefined) {
      if (method !== 'GET') return this.methodNotAllowed(res);
      const room = await this.manager.getRoom(roomId);
      sendJson(res, 200, room.getSnapshot());
      return;
    }
    if (sub === 'patches' && sessionId === undefined) {
      if (method !== 'POST') return this.methodNotAllowed(res);
      const body = await readJsonBody(req, MAX_ADMIN_BODY_BYTES);
      const patches = (body as { patches?: unknown } | null)?.patches;
      const room = await this.manager.getRoom(roomId);
      let timestamp: number;
      try {
        timestamp = room.applyServerPatch(patches as never);
      } catch (error) {
        sendJson(res, 400, { error: (error as Error).message });
        return;
      }
      await room.flush();
      this.logger.info({ roomId, timestamp }, 'server patch applied through the admin API');
      sendJson(res, 200, { timestamp });
      return;
    }
    if (sub === 'sessions' && sessionId !== undefined) {
      if (method !== 'DELETE') return this.methodNotAllowed(res);
      const room = this.manager.getExistingRoom(roomId);
      if (!room || room.getSessionPermissions(sessionId) === undefined) {
        sendJson(res, 404, { error: 'no such session' });
        return;
      }
      room.closeSession(sessionId, CloseCode.Forbidden, 'closed by an administrator');
      this.logger.info({ roomId, sessionId }, 'session closed through the admin API');
      res.writeHead(204).end();
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  }

  private describeRoom(roomId: string, room: Room | undefined) {
    return { roomId, sessions: room?.getSessionCount() ?? 0, clock: room?.getTimestamp() ?? 0 };
  }

  private methodNotAllowed(res: ServerResponse): void {
    sendJson(res, 405, { error: 'method not allowed' });
  }
}
