/**
 * The transport's slow-consumer bounds (SPEC B4, B6) with a fake `ws` socket
 * that never flushes: bytes queued earlier in the same event-loop iteration
 * count, one frame larger than the bound may pass on top of a backlog within it, and a
 * second reconnect reply (`synced`) while the first is unsent cuts the client;
 * frames the room holds for durability (O4) count against the same bound.
 */

import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { LARGE_REPLY_BYTES } from '../../src/room/room-limits.js';
import { FrameEncoder } from '../../src/server/transport/frame-encoder.js';
import { ServerSocket } from '../../src/server/transport/server-socket.js';
import { WriteBatcher } from '../../src/server/transport/write-batcher.js';

/** A `ws` stand-in that keeps every sent byte unsent until `flush` runs the write callbacks. */
class StuckWs {
  readyState = 1; // OPEN
  bufferedAmount = 0;
  terminated = false;
  readonly sent: string[] = [];
  private readonly callbacks: Array<() => void> = [];

  send(data: Buffer, _options: unknown, cb?: () => void): void {
    this.bufferedAmount += data.length;
    this.sent.push(data.toString('utf8'));
    if (cb) this.callbacks.push(cb);
  }

  /** The client read everything. */
  flush(): void {
    this.bufferedAmount = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }

  close(): void {
    this.readyState = 3;
  }
}

function socketWith(maxBufferedBytes: number) {
  const ws = new StuckWs();
  const drops: string[] = [];
  const socket = new ServerSocket(
    ws as unknown as WebSocket,
    new WriteBatcher(),
    new FrameEncoder(),
    maxBufferedBytes,
    { frameSent: () => {}, slowConsumer: (limit) => drops.push(limit) },
  );
  return { ws, socket, drops };
}

const frame = (size: number) => JSON.stringify({ type: 'patch', pad: 'x'.repeat(Math.max(0, size - 27)) });

describe('[B6] ServerSocket bounds', () => {
  it('[B6] bytes queued earlier in the same iteration count against the bound', () => {
    const { ws, socket, drops } = socketWith(1_000);
    socket.send(frame(600));
    expect(drops).toEqual([]);
    socket.send(frame(600));
    expect(drops).toEqual(['maxBufferedBytes']);
    expect(ws.terminated).toBe(true);
    expect(socket.dropped).toBe(true);
    expect(socket.closeCode).toBe(4433);
    socket.send(frame(40));
    expect(ws.sent).toHaveLength(1);
  });

  it('[B6] one frame larger than the bound passes on an empty backlog; a second large one does not', () => {
    const { ws, socket, drops } = socketWith(1_000);
    socket.send(frame(5_000));
    socket.send(JSON.stringify({ type: 'synced', timestamp: 1 }));
    expect(drops).toEqual([]);
    socket.send(frame(5_000));
    expect(drops).toEqual(['maxBufferedBytes']);
    expect(ws.sent).toHaveLength(2);
  });

  it('[B6] a large reply passes on top of small frames queued in the same iteration; what follows it is bounded', () => {
    const { ws, socket, drops } = socketWith(1_000);
    socket.send(JSON.stringify({ type: 'clientCount', count: 2 }));
    socket.send(frame(5_000));
    socket.send(JSON.stringify({ type: 'synced', timestamp: 1 }));
    expect(drops).toEqual([]);
    expect(ws.sent).toHaveLength(3);
    socket.send(frame(990));
    expect(drops).toEqual(['maxBufferedBytes']);
  });

  it('[B6] once the large frame is written out, another may pass', () => {
    const { ws, socket, drops } = socketWith(1_000);
    socket.send(frame(5_000));
    ws.flush();
    socket.send(frame(5_000));
    expect(drops).toEqual([]);
  });

  it('[B6] a second large reply (frame then synced) while the first is unsent cuts the client (reconnectReplies)', () => {
    const { ws, socket, drops } = socketWith(100_000_000);
    const synced = JSON.stringify({ type: 'synced', timestamp: 1 });
    const reply = frame(LARGE_REPLY_BYTES + 100);
    socket.send(reply);
    socket.send(synced);
    ws.flush();
    socket.send(reply);
    socket.send(synced);
    expect(drops).toEqual([]);
    socket.send(reply);
    socket.send(synced);
    expect(drops).toEqual(['reconnectReplies']);
  });

  it('[B6] small replies are bounded by the backlog alone', () => {
    const { socket, drops } = socketWith(100_000_000);
    for (let i = 0; i < 10; i++) {
      socket.send(frame(1_000));
      socket.send(JSON.stringify({ type: 'synced', timestamp: 1 }));
    }
    expect(drops).toEqual([]);
  });

  it('[B6] [O4] frames held for durability count against the bound with what is unsent', () => {
    const { ws, socket, drops } = socketWith(1_000);
    socket.send(frame(300));
    expect(socket.reserve(400)).toBe(true);
    expect(drops).toEqual([]);
    // 300 unsent + 400 held + 400 more held passes 1,000: cut as a slow consumer.
    expect(socket.reserve(400)).toBe(false);
    expect(drops).toEqual(['maxBufferedBytes']);
    expect(ws.terminated).toBe(true);
    expect(socket.closeCode).toBe(4433);
    expect(socket.reserve(1)).toBe(false);
  });

  it('[B6] [O4] a held frame leaving the hold is counted as unsent instead; a drained client takes more', () => {
    const { ws, socket, drops } = socketWith(1_000);
    expect(socket.reserve(600)).toBe(true);
    // A frame sent meanwhile (a later release) counts the held bytes too.
    socket.send(frame(500));
    expect(drops).toEqual(['maxBufferedBytes']);
    expect(ws.sent).toHaveLength(0);

    const other = socketWith(1_000);
    const text = frame(600);
    expect(other.socket.reserve(text.length)).toBe(true);
    other.socket.unreserve(text.length);
    other.socket.send(text);
    expect(other.drops).toEqual([]);
    expect(other.socket.reserve(600)).toBe(false);
    expect(other.drops).toEqual(['maxBufferedBytes']);

    const drained = socketWith(1_000);
    drained.socket.send(frame(600));
    drained.ws.flush();
    expect(drained.socket.reserve(900)).toBe(true);
    expect(drained.drops).toEqual([]);
  });

  it('[B6] [O4] one held frame larger than the bound (a reconnect reply) may wait; a second may not', () => {
    const { socket, drops } = socketWith(1_000);
    expect(socket.reserve(200)).toBe(true);
    expect(socket.reserve(5_000)).toBe(true);
    expect(drops).toEqual([]);
    expect(socket.reserve(5_000)).toBe(false);
    expect(drops).toEqual(['maxBufferedBytes']);

    const released = socketWith(1_000);
    const reply = frame(5_000);
    expect(released.socket.reserve(reply.length)).toBe(true);
    released.socket.unreserve(reply.length);
    released.socket.send(reply);
    expect(released.drops).toEqual([]);
    // Sent but unsent: still the one large frame allowed.
    expect(released.socket.reserve(5_000)).toBe(false);
  });

  it('[B6] a client is behind from half its bound (at most 64 KiB) unsent, and told once it caught up', async () => {
    const { ws, socket } = socketWith(1_000);
    socket.send(frame(400));
    // Reserved bytes (held or folded for it) count against the bound, not as being behind.
    expect(socket.reserve(150)).toBe(true);
    expect(socket.behind()).toBe(false);
    socket.send(frame(150));
    expect(socket.behind()).toBe(true);
    let caughtUp = false;
    socket.onceCaughtUp(() => {
      caughtUp = true;
    });
    ws.flush();
    await vi.waitFor(() => expect(caughtUp).toBe(true));
    expect(socket.behind()).toBe(false);

    const large = socketWith(100 * 1024 * 1024);
    large.socket.send(frame(60 * 1024));
    expect(large.socket.behind()).toBe(false);
    large.socket.send(frame(8 * 1024));
    expect(large.socket.behind()).toBe(true);
  });
});
