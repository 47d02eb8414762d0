/**
 * A TCP proxy that injects network faults between the server and its
 * database, the way a real outage looks from the server's side:
 *
 * - `pass`: bytes flow both ways;
 * - `hang`: connections stay open but nothing is forwarded (a stalled
 *   database or a network that drops packets); bytes wait and flow again
 *   when the proxy passes once more;
 * - `down`: every open connection is reset and new ones are refused at once
 *   (a database restart or a lost route);
 * - {@link FaultProxy.severQuietly}: the open connections go silent for good,
 *   with no reset, while new ones work (a failover whose old peer vanished).
 */
import { createServer, type Server, type Socket } from 'node:net';

/** What the proxy does with traffic. */
export type FaultMode = 'pass' | 'hang' | 'down';

interface Pipe {
  client: Socket;
  upstream: Socket;
}

/** See the module comment. */
export class FaultProxy {
  private mode: FaultMode = 'pass';
  private readonly pipes = new Set<Pipe>();
  private server: Server | undefined;
  private portValue = 0;
  /** Connections accepted, and connections reset or refused by a `down` fault. */
  readonly counts = { accepted: 0, reset: 0, refused: 0, severed: 0 };
  /** Severed connections: kept open and silent until {@link stop}. */
  private readonly silent = new Set<Pipe>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** The port the proxy listens on (127.0.0.1). */
  get port(): number {
    return this.portValue;
  }

  get currentMode(): FaultMode {
    return this.mode;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy has no address');
    this.portValue = address.port;
    this.server = server;
  }

  /** Switches the fault mode; `down` resets every open connection now. */
  set(mode: FaultMode): void {
    this.mode = mode;
    for (const pipe of this.pipes) {
      if (mode === 'down') {
        this.counts.reset++;
        this.destroy(pipe);
      } else if (mode === 'hang') {
        pipe.client.pause();
        pipe.upstream.pause();
      } else {
        pipe.client.resume();
        pipe.upstream.resume();
      }
    }
  }

  /**
   * Makes every open connection silent forever (nothing forwarded, nothing
   * closed) while new connections pass: what a client sees when the machine
   * it was talking to vanished. Returns how many were severed.
   */
  severQuietly(): number {
    const severed = [...this.pipes];
    for (const pipe of severed) {
      this.pipes.delete(pipe);
      this.silent.add(pipe);
      pipe.client.pause();
      pipe.upstream.pause();
    }
    this.counts.severed += severed.length;
    return severed.length;
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    for (const pipe of this.pipes) this.destroy(pipe);
    for (const pipe of this.silent) {
      pipe.client.destroy();
      pipe.upstream.destroy();
    }
    this.silent.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'down') {
      this.counts.refused++;
      client.resetAndDestroy();
      return;
    }
    this.counts.accepted++;
    const upstream: Socket = new (client.constructor as typeof Socket)();
    const pipe: Pipe = { client, upstream };
    this.pipes.add(pipe);
    client.on('error', () => this.destroy(pipe));
    upstream.on('error', () => this.destroy(pipe));
    client.on('close', () => this.destroy(pipe));
    upstream.on('close', () => this.destroy(pipe));
    upstream.connect(this.targetPort, this.targetHost);
    // Pipe by hand rather than with stream.pipe, so pausing both sides holds bytes in both directions.
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    if (this.mode === 'hang') {
      client.pause();
      upstream.pause();
    }
  }

  private destroy(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    if (!pipe.client.destroyed) pipe.client.resetAndDestroy();
    if (!pipe.upstream.destroyed) pipe.upstream.destroy();
  }
}
