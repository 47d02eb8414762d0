/**
 * Property (issue 6; SPEC D1-D6, O2, O4): any sequence of frames from several
 * clients gives the same result whether a room receives them all at once
 * (one burst, so they are staged, committed and released as one batch) or one
 * at a time, each acked before the next is sent. "The same" covers the room's
 * document with tombstones, the clock of every ack, what an observing client
 * ends up with from the broadcasts, and what the durable storage holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Patch, Room, type RoomSnapshot, SqliteStorage, silentLogger } from '../../src/index.js';
import { clientApply, type LiveState, plain } from '../harness/reference-doc.js';
import { scaled } from '../harness/reliability-harness.js';
import { connect, type FakeClient } from '../helpers/room-harness.js';
import { historyArb } from './arbitraries.js';

const dir = mkdtempSync(join(tmpdir(), 'canvas-batched-frames-'));
const sqlite = new SqliteStorage({ path: join(dir, 'rooms.db') });
afterAll(async () => {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

const CLIENTS = 3;
let roomCounter = 0;

/** A sequence of frames, each sent by one of {@link CLIENTS} clients. */
const sentFramesArb = historyArb.chain((frames) =>
  fc.tuple(
    fc.constant(frames),
    fc.array(fc.nat(CLIENTS - 1), { minLength: frames.length, maxLength: frames.length }),
  ),
);

interface Outcome {
  snapshot: RoomSnapshot;
  acks: Record<string, number>;
  observed: LiveState;
  stored: RoomSnapshot | null;
}

/** A stored snapshot as `Room.getSnapshot` shows it: tombstones (kept for reconnects, SPEC D9) left out. */
function withoutTombstones(snapshot: RoomSnapshot): RoomSnapshot {
  const live = Object.keys(snapshot.state).filter((key) => snapshot.state[key]?._exists !== false);
  return {
    timestamp: snapshot.timestamp,
    state: Object.fromEntries(live.map((key) => [key, snapshot.state[key]])) as RoomSnapshot['state'],
    timestamps: Object.fromEntries(
      live.map((key) => [key, snapshot.timestamps[key]]),
    ) as RoomSnapshot['timestamps'],
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 10_000) throw new Error('the room never answered');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Runs `frames` through a fresh room backed by SQLite, in one burst or one at a time. */
async function run(frames: readonly Patch[][], senders: readonly number[], burst: boolean): Promise<Outcome> {
  const roomId = `${burst ? 'burst' : 'steady'}-${roomCounter++}`;
  const room = new Room({
    storage: sqlite.forRoom(roomId),
    logger: silentLogger,
    // A burst is many frames from one session in one instant: not what the rate limit is about here.
    limits: { framesPerSecond: 1_000_000 },
  });
  const clients: FakeClient[] = Array.from({ length: CLIENTS }, (_, i) =>
    connect(room, { clientId: `c${i}` }),
  );
  const observer = connect(room, { clientId: 'observer' });
  const acked = () => clients.reduce((sum, client) => sum + client.socket.ofType('ack').length, 0);
  // SPEC A1: only a frame with at least one non-empty patch is acked.
  let ackable = 0;
  for (const [i, patches] of frames.entries()) {
    const sender = clients[senders[i] as number] as FakeClient;
    sender.send({ type: 'patch', messageId: `m${i}`, documentPatches: plain(patches) });
    if (patches.some((patch) => Object.keys(patch).length > 0)) ackable++;
    if (!burst) await until(() => acked() === ackable);
  }
  await until(() => acked() === ackable);
  const acks: Record<string, number> = {};
  for (const client of clients) {
    for (const ack of client.socket.ofType('ack')) acks[ack.messageId] = ack.timestamp;
  }
  let observed: LiveState = {};
  for (const broadcast of observer.socket.ofType('patch')) {
    observed = clientApply(observed, broadcast.documentPatches ?? []);
  }
  const snapshot = plain(room.getSnapshot());
  await room.close();
  const stored = plain(await sqlite.forRoom(roomId).load());
  return { snapshot, acks, observed, stored };
}

describe('batched frames', () => {
  it('[D1] [D6] [O2] [O4] a burst of frames gives the same document, acks, broadcasts and stored data as one at a time', async () => {
    await fc.assert(
      fc.asyncProperty(sentFramesArb, async ([frames, senders]) => {
        const steady = await run(frames, senders, false);
        const burst = await run(frames, senders, true);
        expect(burst.snapshot).toEqual(steady.snapshot);
        expect(burst.acks).toEqual(steady.acks);
        expect(burst.observed).toEqual(steady.observed);
        expect(burst.stored).toEqual(steady.stored);
        // A room that never got a keyed write stores nothing; any other stores what it holds.
        if (steady.stored === null) expect(steady.snapshot).toMatchObject({ timestamp: 0, state: {} });
        else expect(withoutTombstones(steady.stored)).toEqual(steady.snapshot);
      }),
      { numRuns: scaled(100, 2_000) },
    );
  }, 120_000);
});
