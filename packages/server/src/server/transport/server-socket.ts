import type { Socket } from 'node:net';
import { CloseCode } from 'canvas-store-protocol';
import { WebSocket } from 'ws';
import { LARGE_REPLY_BYTES } from '../../room/room-limits.js';
import type { WebSocketLike } from '../../room/web-socket-like.js';
import type { FrameEncoder } from './frame-encoder.js';
import type { WriteBatcher } from './write-batcher.js';

/** Unsent bytes from which a client counts as behind, unless half its bound is less. */
const BEHIND_BYTES = 64 * 1024;
/** How soon a client behind is checked again when no `drain` will come. */
const CAUGHT_UP_CHECK_MS = 20;

/** What a {@link ServerSocket} reports, for metrics. */
interface ServerSocketEvents {
  frameSent(type: string, bytes: number): void;
  /** The client stopped reading: its unsent bytes passed the bound, or it asked for a second reconnect reply before reading the first. */
  slowConsumer(limit: 'maxBufferedBytes' | 'reconnectReplies'): void;
}

/**
 * The {@link WebSocketLike} the rooms write to: batches writes per event-loop
 * iteration and drops a client whose unsent bytes pass `maxBufferedBytes`, or
 * that has two reconnect replies queued, instead of letting its backlog grow
 * memory (SPEC B4, B6).
 */
export class ServerSocket implements WebSocketLike {
  private droppedFlag = false;
  /** True from sending the `synced` after a large reply until ws reports it written out. */
  private syncedUnsent = false;
  /** Bytes of the frame sent last: a large one right before `synced` is a large reconnect reply. */
  private lastFrameBytes = 0;
  /** Size of the one frame allowed past the bound, until ws reports it written out; else 0. */
  private oversizedBytes = 0;
  /** Characters of the frames the room holds for durability (SPEC O4) to send here later, beside {@link reservedOversized}. */
  private reservedBytes = 0;
  /** Size of the one held frame larger than the bound by itself (a big reconnect reply); else 0. */
  private reservedOversized = 0;
  /** Unsent bytes from which the client counts as behind (presence for it is folded). */
  private readonly behindBytes: number;
  /** The close code the server chose for this connection, if it closed it. */
  closeCode: number | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly batcher: WriteBatcher,
    private readonly encoder: FrameEncoder,
    private readonly maxBufferedBytes: number,
    private readonly events: ServerSocketEvents,
  ) {
    // Well past what a reading client has unsent (the kernel's buffers take the rest), well under the bound.
    this.behindBytes = Math.max(1, Math.min(BEHIND_BYTES, Math.floor(maxBufferedBytes / 2)));
  }

  send(data: string): void {
    if (this.droppedFlag || this.ws.readyState !== WebSocket.OPEN) return;
    const frame = this.encoder.encode(data);
    const length = frame.bytes.length;
    // B6: everything unsent counts, including what this iteration queued (corked) before:
    // a burst of requests in one TCP read must not queue unbounded replies. One frame
    // larger than the bound by itself (a big reconnect reply) may go on top of a backlog
    // within the bound, as long as no other such frame is unsent; until it is written
    // out, it does not count against what follows. So at most the bound plus one reply
    // is queued. (Requiring an empty backlog instead cut newcomers whose reply, held
    // for durability, went out in the same iteration as a presence tick's clientCount.)
    // Frames the room still holds for durability count too: they are queued for this client.
    const backlog = this.ws.bufferedAmount - this.oversizedBytes + this.reservedBytes;
    const oversized = length > this.maxBufferedBytes;
    const overBound = oversized
      ? this.oversizedBytes > 0 || this.reservedOversized > 0
      : backlog + length > this.maxBufferedBytes;
    if (overBound) {
      this.dropSlow('maxBufferedBytes');
      return;
    }
    // B6: a `synced` ends each reconnect reply; a second large reply while the first is
    // unsent means the client asks for the document faster than it reads it.
    const synced = frame.type === 'synced' && this.lastFrameBytes >= LARGE_REPLY_BYTES;
    this.lastFrameBytes = length;
    if (synced && this.syncedUnsent) {
      this.dropSlow('reconnectReplies');
      return;
    }
    // `_socket` is ws's underlying TCP socket; corking it batches this iteration's frames.
    const tcp = (this.ws as unknown as { _socket?: Socket })._socket;
    if (tcp) this.batcher.hold(tcp);
    if (synced) this.syncedUnsent = true;
    if (oversized) this.oversizedBytes = length;
    if (synced || oversized) {
      this.ws.send(frame.bytes, { binary: false }, () => {
        if (synced) this.syncedUnsent = false;
        if (oversized) this.oversizedBytes = 0;
      });
    } else {
      this.ws.send(frame.bytes, { binary: false });
    }
    this.events.frameSent(frame.type, length);
  }

  /**
   * B6: a frame the room holds until earlier writes are durable is queued for
   * this client as much as an unsent one, so it counts against the same bound
   * (with the same allowance of one frame larger than the bound by itself).
   * Past it the connection is cut as a slow consumer and false returned.
   */
  reserve(length: number): boolean {
    if (this.droppedFlag || this.ws.readyState !== WebSocket.OPEN) return false;
    if (length > this.maxBufferedBytes) {
      if (this.oversizedBytes > 0 || this.reservedOversized > 0) {
        this.dropSlow('maxBufferedBytes');
        return false;
      }
      this.reservedOversized = length;
      return true;
    }
    const backlog = this.ws.bufferedAmount - this.oversizedBytes + this.reservedBytes;
    if (backlog + length > this.maxBufferedBytes) {
      this.dropSlow('maxBufferedBytes');
      return false;
    }
    this.reservedBytes += length;
    return true;
  }

  /** A reserved frame leaves the hold: it is sent next (and counted as unsent then), or dropped. */
  unreserve(length: number): void {
    if (length > this.maxBufferedBytes && this.reservedOversized === length) this.reservedOversized = 0;
    else this.reservedBytes = Math.max(0, this.reservedBytes - length);
  }

  /**
   * True while unsent bytes are past {@link BEHIND_BYTES} (or half the bound).
   * Reserved bytes do not count here: they include what is folded for the
   * client while it is behind, which must not keep it behind once it read.
   */
  behind(): boolean {
    return this.ws.bufferedAmount >= this.behindBytes;
  }

  /**
   * Calls `listener` once the client is no longer behind: on the TCP socket's
   * `drain` when a write is waiting for it, else by checking again shortly
   * (a bound below the socket's high-water mark). Never once the socket closed.
   */
  onceCaughtUp(listener: () => void): void {
    if (this.droppedFlag || this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.behind()) {
      setImmediate(listener);
      return;
    }
    const tcp = (this.ws as unknown as { _socket?: Socket })._socket;
    if (tcp?.writableNeedDrain) tcp.once('drain', () => this.onceCaughtUp(listener));
    else setTimeout(() => this.onceCaughtUp(listener), CAUGHT_UP_CHECK_MS).unref();
  }

  /**
   * True once the connection was cut as a slow consumer. Frames that were
   * already read from it must then be ignored: handling them would build
   * replies nobody can receive (a burst of reconnects is exactly that attack).
   */
  get dropped(): boolean {
    return this.droppedFlag;
  }

  /** Unsent bytes of this connection (the server's side of the client's backlog). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  private dropSlow(limit: 'maxBufferedBytes' | 'reconnectReplies'): void {
    this.droppedFlag = true;
    this.closeCode = CloseCode.SlowConsumer;
    this.events.slowConsumer(limit);
    // It is not reading, so a close frame would never arrive: cut it off.
    this.ws.terminate();
  }

  close(code?: number, reason?: string): void {
    this.closeCode ??= code;
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(code, reason);
  }
}
