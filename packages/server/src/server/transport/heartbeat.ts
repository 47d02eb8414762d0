import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Pings every connection each interval; one that has not answered the
 * previous ping is terminated, so a dead connection is reaped within two
 * intervals and its presence removed.
 */
export class Heartbeat {
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly wss: WebSocketServer,
    private readonly intervalMs: number,
    private readonly onReaped: (ws: WebSocket) => void,
  ) {}

  /** Starts watching `ws`. */
  track(ws: WebSocket): void {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
  }

  start(): void {
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private beat(): void {
    for (const ws of this.wss.clients) {
      if (this.alive.get(ws) === false) {
        this.onReaped(ws);
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        // The socket is already closing; the next beat reaps it.
      }
    }
  }
}
