import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthorizeInfo,
  type AuthorizeResult,
  acceptConnection,
  type Room,
  RoomManager,
  type RoomOptions,
  type Storage,
  silentLogger,
} from 'canvas-store-server';
import { type WebSocket, WebSocketServer } from 'ws';

/** Options of {@link TestServer.start}. */
interface TestServerOptions {
  /** Listen on this port (0 or absent: any free port). */
  port?: number;
  /** Storage of each room (default: none, memory only). */
  createStorage?: (roomId: string) => Storage;
  /** Default: every token gets readwrite. */
  authorize?: (info: AuthorizeInfo) => AuthorizeResult | Promise<AuthorizeResult>;
  /** Options of rooms created by connections. */
  roomOptions?: (roomId: string) => Omit<RoomOptions, 'onTokenRefresh'>;
  /** Sees every client frame first; return `'drop'` to keep it from the room. */
  onFrame?: (text: string, socket: WebSocket) => 'drop' | undefined;
}

/**
 * canvas-store-server in this process, on a real `ws` server bound to
 * 127.0.0.1, wired like packages/server/examples/basic-server.mjs.
 */
export class TestServer {
  /** Socket connections accepted so far (authorized or not). */
  connections = 0;
  /** Every frame received from clients, as text, in order. */
  readonly received: string[] = [];

  private constructor(
    readonly manager: RoomManager,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
  ) {}

  /** The URL clients connect to. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  static async start(options: TestServerOptions = {}): Promise<TestServer> {
    const manager = new RoomManager({
      createStorage: options.createStorage,
      idleTimeout: 60_000,
      logger: silentLogger,
    });
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (http.address() as AddressInfo).port;
    const server = new TestServer(manager, http, wss, port);
    wss.on('connection', (ws: WebSocket, req) => {
      server.connections++;
      const conn = acceptConnection({
        socket: ws,
        url: req.url ?? '',
        request: req,
        manager,
        authorize: options.authorize ?? (() => ({ permissions: 'readwrite' })),
        roomOptions: (roomId) => ({ logger: silentLogger, ...options.roomOptions?.(roomId) }),
      });
      ws.on('message', (data) => {
        const text = String(data);
        server.received.push(text);
        if (options.onFrame?.(text, ws) === 'drop') return;
        conn.onMessage(text);
      });
      ws.on('close', () => conn.onClose());
      ws.on('error', () => conn.onError());
      conn.ready.catch(() => {});
    });
    return server;
  }

  /** The open room (opening it when needed). */
  room(roomId: string): Promise<Room> {
    return this.manager.getRoom(roomId);
  }

  /** Frames received of one type, parsed. */
  framesOfType(type: string): Array<Record<string, unknown>> {
    return this.received
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .filter((frame) => frame.type === type);
  }

  /**
   * Stops like a server process going down: every socket is closed (1001),
   * rooms are closed and, unless `flush: false`, persisted.
   */
  async stop(options: { flush?: boolean } = {}): Promise<void> {
    for (const client of this.wss.clients) client.close(1001, 'server restarting');
    if (options.flush === false) {
      for (const roomId of this.manager.getRoomIds()) {
        this.manager.getExistingRoom(roomId)?.close({ flush: false });
      }
    }
    await this.manager.closeAll();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
