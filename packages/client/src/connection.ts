import { Backoff } from './backoff.js';
import type { ConnectionStatus } from './client-events.js';
import type { ReconnectOptions, WebSocketConstructor } from './client-options.js';
import { type ClientSocket, SOCKET_OPEN } from './client-socket.js';
import { shouldReconnect } from './close-policy.js';
import { connectUrl } from './connect-url.js';

/** What a {@link Connection} needs to open sockets. */
interface ConnectionOptions {
  url: string;
  roomId: string;
  clientId: string;
  token: string | (() => string | Promise<string>);
  WebSocket: WebSocketConstructor;
  reconnect?: ReconnectOptions;
  /** Awaited before every connection attempt (e.g. loading persisted state). */
  prepare?: () => Promise<void>;
}

/** Callbacks of a {@link Connection}. */
export interface ConnectionHandlers {
  /** The socket opened: send the `reconnect` frame. */
  onOpen(): void;
  /** A text frame arrived. */
  onMessage(data: string): void;
  /** The socket closed (or failed to connect); `willRetry` says whether a reconnect is scheduled. */
  onClose(event: { code: number; reason: string; willRetry: boolean }): void;
  onStatus(status: ConnectionStatus): void;
  /** Something on our side failed (token function, WebSocket constructor). */
  onError(error: { code: string; message: string }): void;
}

type Wanted = 'online' | 'offline' | 'closed';

/** Code reported when the client itself closes the socket. */
const CLIENT_CLOSE_CODE = 1000;

/**
 * The socket lifecycle: opens a socket to the connect URL (token from a string
 * or a function called on every attempt), reconnects with backoff after
 * unexpected closes, and stays down after deliberate ones or final close
 * codes (see {@link shouldReconnect}).
 */
export class Connection {
  private socket: ClientSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wanted: Wanted = 'offline';
  private statusValue: ConnectionStatus = 'offline';
  private latestToken: string | undefined;
  private attempt = 0;
  private readonly backoff: Backoff;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.backoff = new Backoff(options.reconnect);
    if (typeof options.token === 'string') this.latestToken = options.token;
  }

  get status(): ConnectionStatus {
    return this.statusValue;
  }

  /** True when the socket is open. */
  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === SOCKET_OPEN;
  }

  /** Sends a frame when the socket is open; returns whether it was sent. */
  send(text: string): boolean {
    if (!this.socket || this.socket.readyState !== SOCKET_OPEN) return false;
    this.socket.send(text);
    return true;
  }

  /** Goes online now: opens a socket unless one is open or opening. */
  connect(): void {
    if (this.wanted === 'closed') return;
    this.wanted = 'online';
    if (this.socket) return;
    this.clearTimer();
    this.backoff.reset();
    void this.open();
  }

  /** The connection is established and synced: later failures start from the smallest delay. */
  succeeded(): void {
    this.backoff.reset();
  }

  /** Goes offline deliberately: closes the socket, no reconnect until {@link connect}. */
  disconnect(): void {
    if (this.wanted === 'closed') return;
    this.wanted = 'offline';
    this.stop('client disconnect');
    this.setStatus('offline');
  }

  /** Closes for good. */
  close(): void {
    if (this.wanted === 'closed') return;
    this.wanted = 'closed';
    this.stop('client closed');
    this.setStatus('closed');
  }

  /** Uses `token` for later connects; sends an `auth-refresh` frame when online (SPEC C5). */
  updateToken(token: string): void {
    this.latestToken = token;
    this.send(JSON.stringify({ type: 'auth-refresh', token }));
  }

  private stop(reason: string): void {
    this.attempt++;
    this.clearTimer();
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    try {
      socket.close(CLIENT_CLOSE_CODE, reason);
    } catch {
      // Already closed or never connected: nothing to release.
    }
    this.handlers.onClose({ code: CLIENT_CLOSE_CODE, reason, willRetry: false });
  }

  private async open(): Promise<void> {
    const attempt = ++this.attempt;
    this.setStatus('connecting');
    let token: string;
    try {
      await this.options.prepare?.();
      token = await this.resolveToken();
    } catch (error) {
      if (attempt !== this.attempt || this.wanted !== 'online') return;
      this.handlers.onError({ code: 'token-failed', message: messageOf(error) });
      this.retry();
      return;
    }
    if (attempt !== this.attempt || this.wanted !== 'online') return;
    let socket: ClientSocket;
    try {
      const { url, roomId, clientId } = this.options;
      socket = new this.options.WebSocket(connectUrl(url, roomId, clientId, token));
    } catch (error) {
      this.handlers.onError({ code: 'connect-failed', message: messageOf(error) });
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.setStatus('online');
      this.handlers.onOpen();
    });
    socket.addEventListener('message', (event) => {
      if (this.socket === socket) this.handlers.onMessage(String(event.data));
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.closed(event.code, event.reason);
    });
    // A failed socket also fires 'close', which is handled above.
    socket.addEventListener('error', () => {});
  }

  private closed(code: number, reason: string): void {
    const willRetry =
      this.wanted === 'online' && shouldReconnect(code, typeof this.options.token === 'function');
    if (this.wanted === 'online' && !willRetry) this.wanted = 'offline';
    this.handlers.onClose({ code, reason, willRetry });
    if (willRetry) this.retry();
    else this.setStatus(this.wanted === 'closed' ? 'closed' : 'offline');
  }

  private retry(): void {
    if (this.wanted !== 'online') return;
    this.setStatus('connecting');
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.wanted === 'online' && !this.socket) void this.open();
    }, this.backoff.next());
  }

  private async resolveToken(): Promise<string> {
    const source = this.options.token;
    if (typeof source === 'function') {
      const token = await source();
      if (typeof token !== 'string' || token === '')
        throw new TypeError('the token function returned no token');
      this.latestToken = token;
      return token;
    }
    return this.latestToken ?? source;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.statusValue) return;
    this.statusValue = status;
    this.handlers.onStatus(status);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
