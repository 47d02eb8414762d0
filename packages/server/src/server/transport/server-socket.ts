import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import type { WebSocketLike } from '../../room/web-socket-like.js';
import type { FrameEncoder } from './frame-encoder.js';
import type { WriteBatcher } from './write-batcher.js';

/** What a {@link ServerSocket} reports, for metrics. */
export interface ServerSocketEvents {
  frameSent(type: string, bytes: number): void;
  /** The client stopped reading and its unsent bytes passed the bound. */
  slowConsumer(): void;
}

/**
 * The {@link WebSocketLike} the rooms write to: batches writes per event-loop
 * iteration and drops a client whose unsent bytes pass `maxBufferedBytes`
 * instead of letting its backlog grow memory (SPEC B4).
 */
export class ServerSocket implements WebSocketLike {
  private dropped = false;
  private generation = -1;
  private bytesThisIteration = 0;
  /** The close code the server chose for this connection, if it closed it. */
  closeCode: number | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly batcher: WriteBatcher,
    private readonly encoder: FrameEncoder,
    private readonly maxBufferedBytes: number,
    private readonly events: ServerSocketEvents,
  ) {}

  send(data: string): void {
    if (this.dropped || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.batcher.generation !== this.generation) {
      this.generation = this.batcher.generation;
      this.bytesThisIteration = 0;
    }
    // Bytes corked in this iteration are not a backlog yet: only count what the client left unread.
    if (this.ws.bufferedAmount - this.bytesThisIteration > this.maxBufferedBytes) {
      this.dropped = true;
      this.closeCode = CloseCode.SlowConsumer;
      this.events.slowConsumer();
      // It is not reading, so a close frame would never arrive: cut it off.
      this.ws.terminate();
      return;
    }
    // `_socket` is ws's underlying TCP socket; corking it batches this iteration's frames.
    const tcp = (this.ws as unknown as { _socket?: Socket })._socket;
    if (tcp) this.batcher.hold(tcp);
    const frame = this.encoder.encode(data);
    this.ws.send(frame.bytes, { binary: false });
    this.bytesThisIteration += frame.bytes.length;
    this.events.frameSent(frame.type, frame.bytes.length);
  }

  close(code?: number, reason?: string): void {
    this.closeCode ??= code;
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(code, reason);
  }
}
