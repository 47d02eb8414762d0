/**
 * Coalescing off, a recipient behind (issue 15; SPEC B6, R1, E3): a client
 * whose socket has too much unsent gets its presence folded (the latest
 * value of each key) instead of queued frame by frame until it is cut as a
 * slow consumer; once it caught up it gets one frame, and then every update
 * again as the published server sends it. Document writes are never folded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Room } from '../../src/index.js';
import { FOLDED_KEY_CHARS } from '../../src/room/behind-folds.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { createRoom, type FakeClient } from '../helpers/room-harness.js';

const CURSOR = 'a/Cursor';

/** A fake socket the test declares behind, and tells when it caught up. */
class LaggingSocket extends FakeSocket {
  lagging = false;
  /** Characters it lets the room reserve (its backlog bound), what is reserved now, and refusals. */
  budget = Number.POSITIVE_INFINITY;
  reserved = 0;
  refusals = 0;
  private listeners: Array<() => void> = [];

  reserve(length: number): boolean {
    if (this.reserved + length > this.budget) {
      this.refusals++;
      return false;
    }
    this.reserved += length;
    return true;
  }

  unreserve(length: number): void {
    this.reserved -= length;
  }

  behind(): boolean {
    return this.lagging;
  }

  onceCaughtUp(listener: () => void): void {
    this.listeners.push(listener);
  }

  catchUp(): void {
    this.lagging = false;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

const rooms: Room[] = [];
afterEach(async () => {
  for (const room of rooms.splice(0)) await room.close({ flush: false });
});

function join(room: Room, clientId: string): FakeClient & { socket: LaggingSocket } {
  const socket = new LaggingSocket();
  const sessionId = room.handleSocketConnect({ socket, clientId, permissions: 'readwrite' });
  return {
    socket,
    sessionId,
    clientId,
    send: (frame) => room.handleSocketMessage(sessionId, JSON.stringify(frame)),
    sendRaw: (text) => room.handleSocketMessage(sessionId, text),
  };
}

function setup() {
  const room = createRoom({ presenceTickMs: 0 });
  rooms.push(room);
  const mover = join(room, 'a');
  const behind = join(room, 'b');
  const keepingUp = join(room, 'c');
  mover.send({ type: 'patch', messageId: 'c0', ephemeralPatches: [{ [CURSOR]: { _exists: true, x: 0 } }] });
  for (const client of [mover, behind, keepingUp]) client.socket.clear();
  return { room, mover, behind, keepingUp };
}

function move(mover: FakeClient, i: number): void {
  mover.send({ type: 'patch', messageId: `c${i}`, ephemeralPatches: [{ [CURSOR]: { x: i } }] });
}

/** Cursor values a client received, with the frame's clientId. */
function cursorFrames(client: FakeClient): Array<{ clientId: string; value: unknown }> {
  return client.socket
    .ofType('patch')
    .flatMap((p) =>
      (p.ephemeralPatches ?? []).flatMap((patch) =>
        CURSOR in patch ? [{ clientId: p.clientId, value: patch[CURSOR] }] : [],
      ),
    );
}

describe('[B6] [R1] coalescing off: presence for a recipient behind', () => {
  it('[B6] [R1] 100 moves fold into one frame with the last value once it caught up; the client keeping up gets all 100', () => {
    const { mover, behind, keepingUp } = setup();
    behind.socket.lagging = true;
    for (let i = 1; i <= 100; i++) move(mover, i);
    expect(cursorFrames(keepingUp)).toHaveLength(100);
    expect(cursorFrames(keepingUp).every((f) => f.clientId === 'a')).toBe(true);
    expect(behind.socket.sent).toEqual([]);
    behind.socket.catchUp();
    expect(cursorFrames(behind)).toEqual([{ clientId: '', value: { x: 100 } }]);
    // Caught up: every update again, with its author.
    move(mover, 101);
    expect(cursorFrames(behind).at(-1)).toEqual({ clientId: 'a', value: { x: 101 } });
  });

  it('[B6] [R1] a recipient found caught up at the next update gets what was folded first, never an older value', () => {
    const { mover, behind } = setup();
    behind.socket.lagging = true;
    move(mover, 1);
    behind.socket.lagging = false;
    move(mover, 2);
    const values = cursorFrames(behind).map((f) => (f.value as { x: number }).x);
    expect(values.at(-1)).toBe(2);
    expect(values).not.toContain(1);
  });

  it('[B6] [E3] a departure while behind arrives as { _exists: false }, not after an older value', () => {
    const { room, mover, behind } = setup();
    behind.socket.lagging = true;
    move(mover, 1);
    room.handleSocketClose(mover.sessionId);
    behind.socket.catchUp();
    expect(cursorFrames(behind)).toEqual([{ clientId: '', value: { _exists: false } }]);
  });

  it('[O2] [O3] document writes are never folded, their ephemeral part travels with them', () => {
    const { mover, behind } = setup();
    behind.socket.lagging = true;
    mover.send({
      type: 'patch',
      messageId: 'd1',
      documentPatches: [{ 's/1': { _exists: true } }],
      ephemeralPatches: [{ [CURSOR]: { x: 7 } }],
    });
    expect(cursorFrames(behind)).toEqual([{ clientId: 'a', value: { x: 7 } }]);
    expect(behind.socket.ofType('patch')[0]?.documentPatches).toEqual([{ 's/1': { _exists: true } }]);
  });

  it('[B6] each distinct key folded counts against the bound of the recipient behind; past it the socket refuses', () => {
    const { mover, behind } = setup();
    behind.socket.lagging = true;
    behind.socket.budget = 2 * FOLDED_KEY_CHARS;
    for (let i = 1; i <= 10; i++) move(mover, i);
    // Ten moves of one key: one key's worth.
    expect(behind.socket.reserved).toBe(FOLDED_KEY_CHARS);
    mover.send({ type: 'patch', messageId: 'k2', ephemeralPatches: [{ 'a/Selection': { _exists: true } }] });
    expect(behind.socket.reserved).toBe(2 * FOLDED_KEY_CHARS);
    expect(behind.socket.refusals).toBe(0);
    mover.send({ type: 'patch', messageId: 'k3', ephemeralPatches: [{ 'a/Viewport': { _exists: true } }] });
    // A real socket cuts the client here (4433); the fold is given up and its reservation returned.
    expect(behind.socket.refusals).toBe(1);
    expect(behind.socket.reserved).toBe(0);

    const { mover: other, behind: reader } = setup();
    reader.socket.lagging = true;
    for (let i = 1; i <= 10; i++) move(other, i);
    expect(reader.socket.reserved).toBe(FOLDED_KEY_CHARS);
    reader.socket.catchUp();
    expect(reader.socket.reserved).toBe(0);
    expect(cursorFrames(reader)).toEqual([{ clientId: '', value: { x: 10 } }]);
  });
});
