/**
 * The soak load's raw wire-protocol-2 socket, which checks its stream as
 * frames arrive (SPEC O2, O3, A3, D1), and the reconnect-and-check step every
 * actor starts with.
 */
import { type RawData, WebSocket } from 'ws';
import { type Frame, type Patch, patchesOf } from './doc-state.js';
import type { KnownState } from './room-model.js';
import type { SoakLoad } from './soak-load.js';

interface Pending {
  sentAt: number;
  doc: Patch[] | null;
}

interface SocketHooks {
  /** The reconnect reply: `clientId: ''` patches received before `synced`. */
  onSynced?(synced: number, reply: Frame[]): void;
  onBroadcast?(frame: Frame): void;
  onAck?(pending: Pending): void;
}

/**
 * A raw wire-protocol-2 socket that checks its stream as frames arrive and
 * keeps only what is in flight. Anything unexpected (an `error`, `resync` or
 * `version-mismatch` frame, an ack for no write, a close it did not ask for,
 * a document timestamp out of order) is a failure.
 */
export class LoadSocket {
  readonly inFlight = new Map<string, Pending>();
  synced: number | undefined;
  /** The last document clock this session saw (ack of its write, broadcast, or `synced`). */
  lastDocTs = 0;
  closed = false;
  private closing = false;
  private nextId = 0;
  private readonly reply: Frame[] = [];
  private hooks: SocketHooks = {};

  private constructor(
    readonly load: SoakLoad,
    readonly ws: WebSocket,
    readonly roomId: string,
    readonly clientId: string,
  ) {}

  /** Opens a socket; resolves once open (rejects on a refused or failed connection). */
  static open(load: SoakLoad, roomId: string, clientId: string): Promise<LoadSocket> {
    const query = new URLSearchParams({ roomId, clientId, token: 'soak' });
    const ws = new WebSocket(`ws://127.0.0.1:${load.port}/?${query}`);
    const socket = new LoadSocket(load, ws, roomId, clientId);
    load.sockets.add(socket);
    load.socketsOpened++;
    load.peakSockets = Math.max(load.peakSockets, load.sockets.size);
    ws.on('message', (data: RawData) => socket.receive(data));
    ws.on('close', (code, reason) => socket.onClose(code, String(reason)));
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => {}); // the close event follows and decides
        resolve(socket);
      });
      ws.once('error', reject);
    });
  }

  get what(): string {
    return `${this.clientId}@${this.roomId}`;
  }

  use(hooks: SocketHooks): void {
    this.hooks = hooks;
  }

  /** Sends the `reconnect` frame (optionally with offline edits, as the published client does). */
  sendReconnect(lastTimestamp: number, documentPatches?: Patch[], ephemeralPatches?: Patch[]): void {
    const frame: Frame = { type: 'reconnect', lastTimestamp, protocolVersion: 2 };
    if (documentPatches) frame.documentPatches = documentPatches;
    if (ephemeralPatches) frame.ephemeralPatches = ephemeralPatches;
    this.send(frame);
  }

  /** Sends a write; its ack is checked and reported to {@link SocketHooks.onAck}. */
  sendPatch(documentPatches: Patch[] | null, ephemeralPatches?: Patch[]): void {
    const messageId = `${this.clientId}-${this.nextId++}`;
    const frame: Frame = { type: 'patch', messageId };
    if (documentPatches) frame.documentPatches = documentPatches;
    if (ephemeralPatches) frame.ephemeralPatches = ephemeralPatches;
    this.inFlight.set(messageId, { sentAt: performance.now(), doc: documentPatches });
    this.send(frame);
  }

  private send(frame: Frame): void {
    if (this.closed || this.closing) return;
    const text = JSON.stringify(frame);
    this.load.framesSent++;
    this.ws.send(text);
  }

  /** Closes with 1000 (clean) or terminates the TCP connection (abrupt). */
  leave(clean: boolean): void {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight.size > 0)
      this.load.failures.add(`${this.what} left with ${this.inFlight.size} unacked`);
    if (clean) this.ws.close(1000, 'bye');
    else this.ws.terminate();
  }

  private receive(data: RawData): void {
    this.load.framesReceived++;
    let frame: Frame;
    try {
      frame = JSON.parse(String(data)) as Frame;
    } catch {
      this.load.failures.add(`${this.what} received a frame that is not JSON: ${String(data).slice(0, 200)}`);
      return;
    }
    const failures = this.load.failures;
    switch (frame.type) {
      case 'ack':
        this.onAckFrame(frame);
        return;
      case 'patch': {
        const timestamp = frame.timestamp;
        if (frame.clientId === '') {
          if (this.synced === undefined) this.reply.push(frame);
          // After synced, a server patch may only be coalesced presence (SPEC R1): ephemeral, no document.
          else if (frame.documentPatches === undefined && timestamp === undefined)
            this.hooks.onBroadcast?.(frame);
          else failures.add(`${this.what} got a server document patch after synced`);
          return;
        }
        if (typeof timestamp === 'number') {
          // O3 and A3: before `synced`, increasing; after, exactly the next clock value.
          const ok =
            this.synced === undefined ? timestamp > this.lastDocTs : timestamp === this.lastDocTs + 1;
          if (!ok) failures.add(`[O3] ${this.what} got broadcast ${timestamp} after ${this.lastDocTs}`);
          this.lastDocTs = timestamp;
        }
        this.hooks.onBroadcast?.(frame);
        return;
      }
      case 'synced': {
        const timestamp = frame.timestamp as number;
        if (this.synced !== undefined) failures.add(`${this.what} got a second synced`);
        if (!(timestamp >= this.lastDocTs)) {
          failures.add(`[O3] ${this.what} synced at ${timestamp} after broadcast ${this.lastDocTs}`);
        }
        for (const reply of this.reply) {
          if (reply.documentPatches !== undefined && reply.timestamp !== timestamp) {
            failures.add(
              `[D7] ${this.what} reply timestamp ${String(reply.timestamp)} != synced ${timestamp}`,
            );
          }
        }
        this.synced = timestamp;
        this.lastDocTs = timestamp;
        this.hooks.onSynced?.(timestamp, this.reply.splice(0));
        return;
      }
      case 'clientCount':
        return;
      default:
        failures.add(`${this.what} got an unexpected frame: ${JSON.stringify(frame).slice(0, 300)}`);
    }
  }

  private onAckFrame(frame: Frame): void {
    const { messageId, timestamp } = frame;
    const pending = typeof messageId === 'string' ? this.inFlight.get(messageId) : undefined;
    if (!pending || typeof timestamp !== 'number') {
      this.load.failures.add(`${this.what} got an ack for no write in flight: ${JSON.stringify(frame)}`);
      return;
    }
    this.inFlight.delete(messageId as string);
    if (pending.doc) {
      // O2: the ack of a write comes before any broadcast of a later write,
      // so it is exactly the next clock value this session sees.
      if (timestamp !== this.lastDocTs + 1) {
        this.load.failures.add(`[O2] ${this.what} ack ${timestamp} after ${this.lastDocTs}`);
      }
      this.lastDocTs = timestamp;
      this.load.model(this.roomId).acked(timestamp, pending.doc, this.what);
    }
    this.hooks.onAck?.(pending);
  }

  private onClose(code: number, reason: string): void {
    this.closed = true;
    this.load.sockets.delete(this);
    if (!this.closing) {
      this.load.failures.add(`${this.what} was closed by the server: ${code} ${reason}`);
    }
    if (this.inFlight.size > 0) {
      this.load.failures.add(`${this.what} closed with ${this.inFlight.size} writes unacked`);
    }
  }
}

/**
 * Sends `reconnect` and resolves with the socket's `synced` clock once the
 * reply was registered with the oracle for checking.
 */
export function syncAndCheck(
  socket: LoadSocket,
  options: {
    prior: KnownState | null;
    offline?: Patch[];
    ephemeral?: Patch[];
    onReply?: (reply: Frame[]) => void;
    onChecked?: (state: KnownState, ok: boolean) => void;
  },
): Promise<number> {
  const model = socket.load.model(socket.roomId);
  const fence = model.openFence();
  return new Promise((resolve, reject) => {
    const onClose = () => {
      model.closeFence(fence);
      reject(new Error(`${socket.what} closed before synced`));
    };
    socket.ws.once('close', onClose);
    socket.use({
      onSynced: (synced, reply) => {
        socket.ws.off('close', onClose);
        // The reconnect frame's own writes take the clock of the reply (applied just before it, SPEC D7).
        if (options.offline) model.acked(synced, options.offline, `${socket.what} reconnect`);
        options.onReply?.(reply);
        model.expectReply(fence, synced, {
          what: `reply to ${socket.what}`,
          prior: options.prior,
          reply: reply.flatMap((frame) => patchesOf(frame, 'documentPatches')),
          onChecked: options.onChecked,
        });
        resolve(synced);
      },
    });
    socket.sendReconnect(options.prior?.at ?? 0, options.offline, options.ephemeral);
  });
}
