/**
 * Presence while frames wait for a commit (issue 15; SPEC B6, O4, R1, E3),
 * in one room with a storage whose commits the test releases: every frame
 * queued after a write that is not yet durable is held, so without folding
 * each cursor move held one frame per recipient for as long as the commit
 * took. Now, with or without coalescing, a recipient gets at most one
 * pending presence frame, with the latest values, once the frames before it
 * have left; acks and document broadcasts keep their order.
 */
import type { ServerMessage } from 'canvas-store-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { Room } from '../../src/index.js';
import { GatedStorage } from '../helpers/gated-storage.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';

const nextIteration = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const CURSOR = 'a/Cursor';

const rooms: Room[] = [];
afterEach(async () => {
  for (const room of rooms.splice(0)) await room.close({ flush: false });
});

/** A room on a gated storage: a writer, a mover (client `a`) and two readers. */
function stalledRoom(presenceTickMs: number) {
  const storage = new GatedStorage();
  const room = createRoom({ storage, presenceTickMs });
  rooms.push(room);
  const writer = connect(room, { clientId: 'w' });
  const mover = connect(room, { clientId: 'a' });
  const readers = [connect(room, { clientId: 'b' }), connect(room, { clientId: 'c' })];
  return { storage, room, writer, mover, readers };
}

/** Every value of the cursor a client received, in order ({ _exists: false } included). */
function cursorValues(client: FakeClient): Array<Record<string, unknown>> {
  return client.socket.messages.flatMap((message: ServerMessage) =>
    message.type === 'patch'
      ? (message.ephemeralPatches ?? []).flatMap((patch) =>
          patch[CURSOR] ? [patch[CURSOR] as Record<string, unknown>] : [],
        )
      : [],
  );
}

function move(mover: FakeClient, id: string, value: Record<string, unknown>): void {
  mover.send({ type: 'patch', messageId: id, ephemeralPatches: [{ [CURSOR]: value }] });
}

/** The mover's cursor exists everywhere, the sockets are cleared, and a write is staged: from now on frames are held. */
function holdBehindAWrite(setup: ReturnType<typeof stalledRoom>): void {
  const { writer, mover, readers } = setup;
  move(mover, 'c0', { _exists: true, x: 0, y: 0 });
  for (const client of [writer, mover, ...readers]) client.socket.clear();
  writer.send({ type: 'patch', messageId: 'w1', documentPatches: [{ 's/1': { _exists: true, v: 1 } }] });
}

describe('[B6] [O4] presence behind a commit that is not yet durable', () => {
  it('[B6] [O4] [R1] coalescing off: 50 moves while a commit waits hold one pending frame per reader, sent with the latest value after the write', async () => {
    const setup = stalledRoom(0);
    const { storage, room, writer, mover, readers } = setup;
    holdBehindAWrite(setup);
    for (let i = 1; i <= 50; i++) move(mover, `c${i}`, { x: i });
    await nextIteration();
    expect(storage.commits).toHaveLength(1);
    for (const reader of readers) expect(reader.socket.sent).toEqual([]);
    // The writer's ack, its broadcast to three sessions, the mover's 50 acks and one
    // pending presence flush, instead of 50 more frames per recipient.
    expect(room.stats.heldFrames).toBe(1 + 3 + 50 + 1);
    expect(room.stats.pendingPresence).toBe(1);

    storage.open();
    await nextIteration();
    expect(room.stats.heldFrames).toBe(0);
    for (const reader of [...readers, writer]) {
      const patches = reader.socket.ofType('patch');
      const write = patches.findIndex((p) => p.documentPatches?.some((patch) => 's/1' in patch));
      const presence = patches.findIndex((p) => p.ephemeralPatches?.some((patch) => CURSOR in patch));
      if (reader !== writer) expect(write).toBeGreaterThanOrEqual(0);
      // [O4] after the write it waited for; [R1] one frame, the last value, no author.
      expect(presence).toBeGreaterThan(write);
      expect(cursorValues(reader)).toEqual([{ x: 50 }]);
      expect(patches[presence]?.clientId).toBe('');
    }
    // [O2] the writer's ack came first; [A1] every move was acked, in order; [A3] no echo.
    expect(writer.socket.messages[0]).toMatchObject({ type: 'ack', messageId: 'w1' });
    expect(mover.socket.ofType('ack').map((ack) => ack.messageId)).toEqual(
      Array.from({ length: 50 }, (_, i) => `c${i + 1}`),
    );
    expect(cursorValues(mover)).toEqual([]);

    // Nothing held any more: the next move leaves at once, uncoalesced, as the published server sends it.
    move(mover, 'c51', { x: 51 });
    const last = readers[0]?.socket.messages.at(-1);
    expect(last).toMatchObject({ type: 'patch', clientId: 'a', ephemeralPatches: [{ [CURSOR]: { x: 51 } }] });
  });

  it('[B6] [E3] [S1] coalescing off: a departure while a commit waits is sent as { _exists: false }, never overtaken by an older value, with the latest count', async () => {
    const setup = stalledRoom(0);
    const { storage, room, mover, readers } = setup;
    holdBehindAWrite(setup);
    move(mover, 'c1', { x: 1 });
    room.handleSocketClose(mover.sessionId);
    await nextIteration();
    storage.open();
    await nextIteration();
    for (const reader of readers) {
      expect(cursorValues(reader)).toEqual([{ _exists: false }]);
      expect(reader.socket.ofType('clientCount').map((c) => c.count)).toEqual([3]);
    }
  });

  it('[B6] [E2] coalescing off: a client joining while a commit waits gets its snapshot, then only newer values', async () => {
    const setup = stalledRoom(0);
    const { storage, mover } = setup;
    holdBehindAWrite(setup);
    move(mover, 'c1', { x: 1 });
    const late = connect(setup.room, { clientId: 'd' });
    late.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    move(mover, 'c2', { x: 2 });
    await nextIteration();
    storage.open();
    await nextIteration();
    const xs = cursorValues(late).map((value) => value.x);
    expect(xs.at(-1)).toBe(2);
    // Never an older value after a newer one.
    for (let i = 1; i < xs.length; i++) expect(xs[i] as number).toBeGreaterThanOrEqual(xs[i - 1] as number);
    expect(late.socket.ofType('synced')).toHaveLength(1);
  });

  it('[B6] [O4] [R1] coalescing on: ticks wait behind held frames instead of adding a frame per recipient each', async () => {
    const setup = stalledRoom(2);
    const { storage, room, mover, readers } = setup;
    // The tick of the first cursor has left before anything is held.
    move(mover, 'c0', { _exists: true, x: 0, y: 0 });
    await sleep(10);
    for (const client of [setup.writer, mover, ...readers]) client.socket.clear();
    setup.writer.send({
      type: 'patch',
      messageId: 'w1',
      documentPatches: [{ 's/1': { _exists: true, v: 1 } }],
    });
    // Moves spread over many tick intervals (pacing only: nothing below depends on how long they took).
    for (let i = 1; i <= 10; i++) {
      move(mover, `c${i}`, { x: i });
      await sleep(6);
    }
    expect(room.stats.heldFrames).toBe(1 + 3 + 10 + 1);
    storage.open();
    await nextIteration();
    await sleep(10);
    for (const reader of readers) expect(cursorValues(reader)).toEqual([{ x: 10 }]);
  });
});
