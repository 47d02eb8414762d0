import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CloseCode } from 'canvas-store-protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ClusterRouter } from '../cluster/cluster-router.js';
import type { AcceptConnectionOptions } from '../connection/accept-connection.js';
import { ConnectRequestError } from '../connection/errors.js';
import { parseConnectUrl } from '../connection/parse-connect-url.js';
import { RoomManager } from '../manager/room-manager.js';
import { RateLimitedLog } from '../room/rate-limited-log.js';
import type { StorageBackend } from '../storage/storage-backend.js';
import { type Authorize, createAuthorize } from './auth/create-authorize.js';
import { createClusterRouter, joinCluster, roomStorageFor } from './cluster-wiring.js';
import { roomOptionsFromConfig } from './config/room-options-from-config.js';
import type { ServerConfig } from './config/server-config.js';
import type { AdminApi } from './http/admin-api.js';
import { createAdminApi } from './http/create-admin-api.js';
import { sendJson } from './http/http-helpers.js';
import { originAllowed } from './http/origin-policy.js';
import { rejectUpgrade } from './http/reject-upgrade.js';
import { HistorySweeper } from './lifecycle/history-sweeper.js';
import { persistRoomsAndCloseStorage } from './lifecycle/persist-on-shutdown.js';
import { ShutdownError } from './lifecycle/shutdown-error.js';
import { listenError } from './lifecycle/startup-error.js';
import { withTimeout } from './lifecycle/with-timeout.js';
import { createLogger, type ServerLogger } from './observability/create-logger.js';
import { ServerMetrics } from './observability/server-metrics.js';
import { openServerStorage } from './open-server-storage.js';
import { ConnectionGuard, refuseSocket } from './principals/connection-guard.js';
import { localConnection } from './socket-connection.js';
import { FrameEncoder } from './transport/frame-encoder.js';
import { Heartbeat } from './transport/heartbeat.js';
import { ServerSocket } from './transport/server-socket.js';
import { TokenExpiry } from './transport/token-expiry.js';
import { transportCloseCode } from './transport/transport-close-code.js';
import { WriteBatcher } from './transport/write-batcher.js';

/** A request handler the server falls back to for paths it does not serve itself (the demo page). */
export type FallbackHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) => boolean | Promise<boolean>;

/** Options of {@link CanvasStoreServer}. */
export interface CanvasStoreServerOptions {
  config: ServerConfig;
  /** Defaults to JSON logs on stdout at `config.logLevel`. */
  logger?: ServerLogger;
  /** Serves paths the server does not know (used for the demo page and inspector). */
  fallback?: FallbackHandler;
}

const SHUTDOWN_GRACE_MS = 5_000;
/**
 * How long `/readyz` waits for the storage's health check. A stalled database
 * must make the server report itself unready, not hang the probe.
 */
const READINESS_TIMEOUT_MS = 2_000;

/**
 * The runnable server: HTTP + WebSocket on `ws`, durable storage, auth,
 * limits, heartbeats, health, metrics, structured logs and graceful shutdown.
 *
 * @example
 * ```ts
 * const server = new CanvasStoreServer({ config: loadConfig(process.argv.slice(2), process.env) });
 * const { port } = await server.start();
 * process.once('SIGTERM', () => server.stop().then(() => process.exit(0)));
 * ```
 */
export class CanvasStoreServer {
  readonly manager: RoomManager;
  readonly metrics: ServerMetrics;
  readonly logger: ServerLogger;
  /** The cluster router in cluster mode (`--redis-url`), else undefined (SPEC K8). */
  readonly cluster: ClusterRouter | undefined;
  private readonly storage: StorageBackend;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly heartbeat: Heartbeat;
  private readonly historySweeper: HistorySweeper;
  private readonly batcher = new WriteBatcher();
  private readonly encoder = new FrameEncoder();
  private readonly admin: AdminApi | undefined;
  private readonly authorize: Authorize;
  private readonly guard: ConnectionGuard;
  private readonly refusedLog: RateLimitedLog;
  private shuttingDown = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: CanvasStoreServerOptions) {
    const { config } = options;
    this.logger = options.logger ?? createLogger(config.logLevel);
    this.metrics = new ServerMetrics(() => this.manager.getRoomIds().length);
    this.storage = openServerStorage(config, (reason, entries) =>
      this.metrics.historyDropped.inc({ reason }, entries),
    );
    this.historySweeper = new HistorySweeper(this.storage, this.logger);
    this.manager = new RoomManager({
      createStorage: (roomId) => roomStorageFor(this.storage, this.cluster, roomId),
      idleTimeout: config.idleTimeoutMs,
      maxRooms: config.maxRooms,
      logger: this.logger,
      roomOptions: (roomId) => ({
        ...roomOptionsFromConfig(config),
        logger: this.logger.child({ roomId }),
        observer: this.metrics.roomObserver,
      }),
    });
    this.authorize = createAuthorize(options.config);
    this.cluster = createClusterRouter(config, {
      manager: this.manager,
      logger: this.logger,
      metrics: this.metrics,
      authorize: this.authorize,
    });
    this.admin = createAdminApi(config, {
      manager: this.manager,
      storage: this.storage,
      logger: this.logger,
      metrics: this.metrics,
      cluster: this.cluster,
      onThrottled: (address) => this.guard.refusedAdmin(address),
    });
    // Refused connections: per close code, at most 10 info lines per 10 s.
    this.refusedLog = new RateLimitedLog(this.logger, { level: 'info', burst: 10, kindField: 'kind' });
    this.guard = ConnectionGuard.create(config, this.metrics.principalRefusals, this.logger);
    this.http = createServer(
      { connectionsCheckingInterval: Math.min(30_000, config.handshakeTimeoutMs) },
      (req, res) => {
        this.guard.onRequest(req);
        this.handleRequest(req, res).catch((error: unknown) => {
          this.logger.error({ err: error }, 'request failed');
          if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
          else res.destroy();
        });
      },
    );
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.maxFrameBytes,
      perMessageDeflate: false,
    });
    // Slow request headers on a kept-alive connection get the same deadline as a new connection's.
    this.http.headersTimeout = config.handshakeTimeoutMs;
    this.http.on('connection', (socket: Socket) => this.guard.onTcpConnection(socket));
    this.http.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as Socket, head));
    this.heartbeat = new Heartbeat(this.wss, config.heartbeatIntervalMs, () => {
      this.metrics.heartbeatTimeouts.inc();
      this.logger.info({}, 'connection reaped after missing heartbeats');
    });
  }

  /**
   * Starts listening; resolves with the bound address.
   *
   * @throws {@link StartupError} naming the flag to change when the port or host cannot be used.
   */
  async start(): Promise<{ host: string; port: number }> {
    if (this.cluster) await joinCluster(this.cluster, this.options.config, this.logger);
    return this.listen();
  }

  private listen(): Promise<{ host: string; port: number }> {
    const { config } = this.options;
    if (config.auth === 'none') {
      this.logger.warn(
        { host: config.host, allowAnyOrigin: config.allowAnyOrigin },
        config.allowAnyOrigin
          ? 'auth is disabled (development mode): every token is accepted with write access, from pages of any origin (--allow-any-origin); configure JWT auth for production'
          : 'auth is disabled (development mode): every token is accepted with write access, from same-origin pages only; configure JWT auth for production',
      );
    }
    return new Promise((resolve, reject) => {
      const failed = (error: unknown) => reject(listenError(error, config.host, config.port));
      this.http.once('error', failed);
      this.http.listen(config.port, config.host, () => {
        this.http.off('error', failed);
        this.heartbeat.start();
        this.historySweeper.start();
        const address = this.http.address() as AddressInfo;
        this.logger.info(
          { host: address.address, port: address.port, storage: config.storage, auth: config.auth },
          'canvas-store-server listening',
        );
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /**
   * Graceful shutdown: stop accepting, close sessions with "going away",
   * persist every room (SPEC P5), close storage. Calling it again returns the same promise.
   *
   * @throws {@link ShutdownError} naming the rooms whose edits are not stored, when
   *   storage fails or does not finish within `config.shutdownTimeoutMs`.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.logger.info({}, 'shutting down');
    this.heartbeat.stop();
    await this.historySweeper.stop();
    // Cluster mode: hand every owned room over and close forwarded clients with 1012 first (SPEC K7).
    await this.cluster?.stop();
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // Wait for each socket's own close event so its session is logged and counted.
    const socketsClosed = Array.from(
      this.wss.clients,
      (ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())),
    );
    for (const ws of this.wss.clients) ws.close(CloseCode.GoingAway, 'server shutting down');
    const failure = await persistRoomsAndCloseStorage(
      this.manager,
      this.storage,
      this.options.config.shutdownTimeoutMs,
      this.logger,
    );
    // Sockets that did not finish their closing handshake in time are cut off.
    const grace = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
      this.http.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    grace.unref();
    await Promise.all(socketsClosed);
    this.http.closeIdleConnections();
    await httpClosed;
    clearTimeout(grace);
    this.wss.close();
    this.logger.info({}, failure ? 'shutdown finished with unsaved rooms' : 'shutdown complete');
    if (failure) throw failure;
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      const storageHealthy = await withTimeout(this.storage.isHealthy(), READINESS_TIMEOUT_MS, false);
      const clusterReady = this.cluster?.ready ?? true;
      const healthy = !this.shuttingDown && storageHealthy && clusterReady;
      sendJson(res, healthy ? 200 : 503, {
        status: healthy ? 'ready' : 'unavailable',
        storage: this.storage.kind,
        shuttingDown: this.shuttingDown,
        ...(this.cluster ? { cluster: this.cluster.status() } : {}),
      });
      return;
    }
    if (path === '/metrics') {
      const { contentType, body } = await this.metrics.render();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (path === '/admin' || path.startsWith('/admin/')) {
      if (!this.admin) {
        sendJson(res, 404, { error: 'the admin API is disabled; set --admin-secret to enable it' });
        return;
      }
      await this.admin.handle(req, res, path);
      return;
    }
    if (this.options.fallback && (await this.options.fallback(req, res, path))) return;
    sendJson(res, 404, { error: 'not found' });
  }

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.shuttingDown) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    if (!originAllowed(req, this.options.config)) {
      this.refusedLog.log(
        '403',
        { origin: req.headers.origin, reason: 'origin not allowed' },
        'connection refused',
      );
      this.metrics.connectionsRefused.inc({ code: 403 });
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    const admitted = this.guard.admitUpgrade(req);
    if (typeof admitted !== 'function') {
      refuseSocket(socket, admitted);
      return;
    }
    socket.once('close', admitted);
    // Refuse a connect URL without roomId, clientId or token before the upgrade, with
    // an HTTP status and a body naming the parameter: a WebSocket close after the
    // upgrade made the published client reconnect forever without saying why.
    try {
      parseConnectUrl(req.url ?? '');
    } catch (error) {
      if (!(error instanceof ConnectRequestError)) throw error;
      this.refusedLog.log('400', { reason: error.message, code: 400 }, 'connection refused');
      this.metrics.connectionsRefused.inc({ code: 400 });
      rejectUpgrade(socket, 400, 'Bad Request', `${error.message}\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.handleConnection(ws, req));
  }

  private handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const { config } = this.options;
    this.metrics.connections.inc();
    let closed = false;
    let releasePrincipal: (() => void) | undefined;
    this.heartbeat.track(ws);
    const socket = new ServerSocket(ws, this.batcher, this.encoder, config.maxBufferedBytes, {
      frameSent: (type, bytes) => this.metrics.countFrameOut(type, bytes),
      slowConsumer: (limit) => {
        this.metrics.limitHits.inc({ limit });
        // One line per dropped connection, as for every connection's end: a drop costs the
        // client a whole connection, so these lines cannot be multiplied within one.
        this.logger.warn({ limit }, 'client dropped: it stopped reading');
      },
    });
    this.guard.onUpgradedDeadline(req.socket, () => {
      socket.closeCode = CloseCode.HandshakeTimeout;
      ws.close(CloseCode.HandshakeTimeout, 'handshake timeout');
      // A peer that does not answer the close frame is not waited for.
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
    const expiry = new TokenExpiry(() => socket.close(CloseCode.TokenExpired, 'token expired'));
    const acceptOptions: AcceptConnectionOptions<IncomingMessage, Record<string, unknown>> = {
      socket,
      url: req.url ?? '',
      request: req,
      manager: this.manager,
      authorize: async (info) => {
        const result = await this.authorize(info);
        const release = this.guard.admitPrincipal(info, result.metadata, config.bindClientId);
        if (info.request !== undefined) {
          releasePrincipal = release;
          if (closed) release();
        }
        expiry.schedule(result.metadata?.expiresAt);
        return result;
      },
      maxPendingBytes: config.maxFrameBytes * 4,
    };
    const conn = this.cluster ? this.cluster.accept(acceptOptions) : localConnection(acceptOptions);
    ws.on('message', (data: Buffer) => {
      if (!socket.dropped) conn.onMessage(data.toString('utf8'));
    });
    ws.on('error', (error) => {
      this.logger.debug({ err: error }, 'socket error');
      // ws has already closed the connection with its own code (1009, 1007, 1002):
      // count that one, not the 1001 the room's cleanup would close with.
      socket.closeCode ??= transportCloseCode(error);
      conn.onError();
    });
    ws.on('close', (code) => {
      closed = true;
      releasePrincipal?.();
      expiry.clear();
      this.metrics.connections.dec();
      this.metrics.closes.inc({ code: socket.closeCode ?? code });
      conn.onClose();
    });
    conn.ready.then(
      ({ room, roomId, sessionId }) => {
        this.guard.handshakeDone(req.socket);
        const session = room?.getSessions().find((s) => s.sessionId === sessionId);
        this.logger.info(
          {
            roomId,
            sessionId,
            clientId: session?.clientId,
            permissions: session?.permissions,
            ...(room ? {} : { forwarded: true }),
          },
          'session connected',
        );
        ws.once('close', (code) => this.logger.info({ roomId, sessionId, code }, 'session closed'));
      },
      (error: unknown) => {
        this.guard.handshakeDone(req.socket);
        this.metrics.connectionsRefused.inc({ code: socket.closeCode ?? 0 });
        const code = socket.closeCode ?? 0;
        this.refusedLog.log(String(code), { reason: (error as Error).message, code }, 'connection refused');
      },
    );
  }
}
