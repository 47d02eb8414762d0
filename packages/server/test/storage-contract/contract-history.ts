import { expect, it } from 'vitest';
import {
  ClockedDocument,
  type CommitBatch,
  type HistoryEntry,
  HistoryHorizonError,
  hasHistory,
  type Patch,
  type Room,
  type RoomSnapshot,
  type Storage,
  type StoredRoom,
} from '../../src/index.js';
import { connect, type FakeClient } from '../helpers/room-harness.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { acks, type ContractContext, waitFor, write } from './contract-helpers.js';

/** The live document of a stored room, as `getSnapshot()` would give it. */
function live(room: StoredRoom): RoomSnapshot {
  return ClockedDocument.fromComponents(room.timestamp, room.components).toSnapshot({
    includeTombstones: false,
  });
}

/** A random write over a few keys: creates, edits, deletions and re-creations (SPEC D5). */
function randomPatch(random: () => number, step: number): Patch {
  const patch: Patch = {};
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const key = `e${Math.floor(random() * 6)}/Shape`;
    const roll = random();
    if (roll < 0.2) patch[key] = { _exists: false };
    else if (roll < 0.5) patch[key] = { _exists: true, x: step, label: `s${step}` };
    else patch[key] = { x: step * 10 + i };
  }
  return patch;
}

/** Every history entry, walking the pages newest first with a small page size. */
async function allEntries(room: Room): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await room.listHistory(before === undefined ? { limit: 3 } : { before, limit: 3 });
    out.push(...page.entries);
    if (page.nextBefore === null) return out;
    before = page.nextBefore;
  }
}

/**
 * Writes `steps` random patches from two clients (several per event-loop
 * iteration, so batches hold many writes) and returns the reference live
 * document at every clock, replayed independently by a ClockedDocument.
 */
async function randomHistory(room: Room, steps: number, seed: number): Promise<RoomSnapshot[]> {
  const random = seededRandom(seed);
  const reference = new ClockedDocument();
  const states: RoomSnapshot[] = [reference.toSnapshot({ includeTombstones: false })];
  const clients: FakeClient[] = [connect(room, { clientId: 'alice' }), connect(room, { clientId: 'bob' })];
  for (let step = 1; step <= steps; step++) {
    const patch = randomPatch(random, step);
    write(clients[step % 2] as FakeClient, patch);
    reference.applyPatches([patch]);
    states.push(reference.toSnapshot({ includeTombstones: false }));
    if (step % 4 === 0) await room.flush();
  }
  await room.flush();
  const acked =
    (clients[0] as FakeClient).socket.ofType('ack').length +
    (clients[1] as FakeClient).socket.ofType('ack').length;
  expect(acked).toBe(steps);
  return states;
}

/** A storage over `inner` whose next `failures` commits reject (a full disk), history methods included. */
function failingCommits(inner: Storage, failures: { left: number }): Storage {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'commit') {
        return (batch: CommitBatch) => {
          if (failures.left > 0) {
            failures.left--;
            return Promise.reject(new Error('disk full'));
          }
          return (value as (batch: CommitBatch) => Promise<void>).call(target, batch);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** SPEC H1-H3 through real Rooms, for backends whose storage keeps history. */
export function describeHistoryContract(ctx: ContractContext): void {
  it('[H1] reads undo from the live document: reads asked before their writes are stored, with writes landing during the read, give the state at their clock, equal to undoing from the stored components', async () => {
    const storage = ctx.backend.storageFor('h1-live');
    if (!hasHistory(storage)) throw new Error('a history backend must keep history');
    const room = await ctx.open('h1-live', { storage });
    const random = seededRandom(61);
    const reference = new ClockedDocument();
    const states: RoomSnapshot[] = [reference.toSnapshot({ includeTombstones: false })];
    const step = () => {
      const patch = randomPatch(random, states.length);
      room.applyServerPatch([patch]);
      reference.applyPatches([patch]);
      states.push(reference.toSnapshot({ includeTombstones: false }));
    };
    const reads: Array<{ clock: number; state: Promise<StoredRoom> }> = [];
    for (let round = 0; round < 6; round++) {
      // Nothing flushed: the reads start from a document whose last writes are not stored yet.
      for (let i = 0; i < 5; i++) step();
      for (const back of [0, 1, 4, 7]) {
        const clock = Math.max(0, room.getTimestamp() - back);
        reads.push({ clock, state: room.readAt(clock) });
      }
      // Written while those reads wait for the flush: after their clock, never undone by them.
      for (let i = 0; i < 3; i++) step();
    }
    for (const read of reads)
      expect(live(await read.state), `clock ${read.clock}`).toEqual(states[read.clock]);
    await room.flush();
    for (let clock = 0; clock < states.length; clock++) {
      const fromStored = await storage.readAt(clock);
      expect(live(fromStored), `stored, clock ${clock}`).toEqual(states[clock]);
      expect(live(await room.readAt(clock)), `live, clock ${clock}`).toEqual(live(fromStored));
    }
  });

  it("[H1] a read result is the caller's: changing it changes no later read", async () => {
    const room = await ctx.open('h1-copy');
    const states = await randomHistory(room, 12, 5);
    for (let clock = 0; clock < states.length; clock++) {
      for (const component of (await room.readAt(clock)).components) {
        component.data.x = 'changed';
        component.stamps.x = 999;
        component.deletedAt = 999;
      }
    }
    for (let clock = 0; clock < states.length; clock++) {
      expect(live(await room.readAt(clock)), `clock ${clock}`).toEqual(states[clock]);
    }
    expect(room.getSnapshot()).toEqual(states[12]);
  });

  it('[H1][P4] a read whose writes fail to commit rejects (their history is not stored); once the retried commit lands, reads are right', async () => {
    const failures = { left: 0 };
    const storage = failingCommits(ctx.backend.storageFor('h1-failing'), failures);
    const room = await ctx.open('h1-failing', { storage });
    const states = await randomHistory(room, 6, 11);
    failures.left = 1;
    const patch = { 'e1/Shape': { _exists: true, x: 100 } };
    room.applyServerPatch([patch]);
    // The live document holds clock 7, but its history entry is not stored: undoing from it would lie.
    await expect(room.readAt(5)).rejects.toThrow('disk full');
    await waitFor(() => failures.left === 0, 'the failed commit');
    await room.flush();
    const reference = ClockedDocument.fromSnapshot(states[6] as RoomSnapshot);
    reference.applyPatches([patch]);
    expect(live(await room.readAt(7))).toEqual(reference.toSnapshot({ includeTombstones: false }));
    for (let clock = 0; clock <= 6; clock++) expect(live(await room.readAt(clock))).toEqual(states[clock]);
  });

  it('[H3] while count retention moves on, every state inside it stays readable and the one before it does not', async () => {
    const storage = ctx.backend.historyStorageFor?.('h3-moving', { history: { maxEntries: 4 } });
    if (!storage) throw new Error('a history backend must offer historyStorageFor');
    const room = await ctx.open('h3-moving', { storage });
    const random = seededRandom(23);
    const reference = new ClockedDocument();
    const states: RoomSnapshot[] = [reference.toSnapshot({ includeTombstones: false })];
    for (let step = 1; step <= 14; step++) {
      const patch = randomPatch(random, step);
      room.applyServerPatch([patch]);
      reference.applyPatches([patch]);
      states.push(reference.toSnapshot({ includeTombstones: false }));
      await room.flush();
      const horizon = await room.historyHorizon();
      expect(horizon).toBe(Math.max(0, step - 4));
      for (let clock = horizon; clock <= step; clock++) {
        expect(live(await room.readAt(clock)), `clock ${clock} at step ${step}`).toEqual(states[clock]);
      }
      if (horizon > 0) await expect(room.readAt(horizon - 1)).rejects.toBeInstanceOf(HistoryHorizonError);
    }
  });

  it('[H1] every acked write is in the history, newest first, with its clock, author and keys', async () => {
    const room = await ctx.open('h1-list');
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    const before = Date.now();
    write(a, { 'e1/Shape': { _exists: true, x: 1 } });
    write(b, { 'e2/Shape': { _exists: true } }, { 'e1/Shape': { x: 2 } });
    await waitFor(() => acks(a).length === 1 && acks(b).length === 1, 'both acks');
    room.applyServerPatch([{ 'e2/Shape': { _exists: false } }]);
    await room.flush();
    const entries = await allEntries(room);
    expect(entries.map(({ clock, clientId, keys }) => ({ clock, clientId, keys: [...keys].sort() }))).toEqual(
      [
        { clock: 3, clientId: '', keys: ['e2/Shape'] },
        { clock: 2, clientId: 'bob', keys: ['e1/Shape', 'e2/Shape'] },
        { clock: 1, clientId: 'alice', keys: ['e1/Shape'] },
      ],
    );
    for (const entry of entries) expect(entry.time).toBeGreaterThanOrEqual(before - 1000);
    expect(await room.historyHorizon()).toBe(0);
  });

  it('[H1][H3][D5] an edit that raced a deletion takes a clock and a history entry; the horizon stays, before and after a restart', async () => {
    const room = await ctx.open('h1-noop');
    const a = connect(room, { clientId: 'alice' });
    write(a, { 'n1/Shape': { _exists: true, x: 1 } });
    write(a, { 'n1/Shape': { _exists: false } });
    // D5: an edit to a deleted key changes nothing, but is acked with a clock of its own.
    write(a, { 'n1/Shape': { x: 2 } });
    await waitFor(() => acks(a).length === 3, 'three acks');
    await room.flush();
    expect(room.getTimestamp()).toBe(3);
    expect((await allEntries(room)).map((entry) => entry.clock)).toEqual([3, 2, 1]);
    // Were the horizon the clock, every client older than it would get the whole
    // document and the published client would keep deleted keys (H3).
    expect(await room.historyHorizon()).toBe(0);
    const reopened = await ctx.cycle(room, 'h1-noop');
    expect(reopened.getTimestamp()).toBe(3);
    expect(await reopened.historyHorizon()).toBe(0);
    expect(Object.keys(live(await reopened.readAt(1)).state)).toEqual(['n1/Shape']);
  });

  it('[H1] the state read at every clock equals an independent replay, before and after a restart', async () => {
    const room = await ctx.open('h1-read');
    const states = await randomHistory(room, 40, 16);
    expect((await allEntries(room)).map((e) => e.clock)).toEqual(
      states
        .map((_, i) => i)
        .slice(1)
        .reverse(),
    );
    for (let clock = 0; clock < states.length; clock++) {
      expect(live(await room.readAt(clock)), `clock ${clock}`).toEqual(states[clock]);
    }
    const again = await ctx.cycle(room, 'h1-read');
    for (let clock = 0; clock < states.length; clock++) {
      expect(live(await again.readAt(clock)), `clock ${clock} after restart`).toEqual(states[clock]);
    }
    await expect(again.readAt(states.length)).rejects.toBeInstanceOf(RangeError);
  });

  it('[H2] restore is one ordinary write: one clock step, author "", broadcast, in history, live document equals the past state', async () => {
    const room = await ctx.open('h2-restore');
    const states = await randomHistory(room, 20, 7);
    const watcher = connect(room, { clientId: 'watcher' });
    const { clock } = await room.restoreTo(8);
    expect(clock).toBe(21);
    expect(room.getSnapshot().state).toEqual(states[8]?.state);
    const broadcasts = watcher.socket.ofType('patch').filter((p) => p.documentPatches);
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]).toMatchObject({ clientId: '', timestamp: 21 });
    // A client applying the broadcast over the state it held ends at the restored state.
    const client = ClockedDocument.fromSnapshot(states[20] as RoomSnapshot);
    client.applyPatches(broadcasts[0]?.documentPatches ?? []);
    expect(client.toSnapshot({ includeTombstones: false }).state).toEqual(states[8]?.state);
    const [newest] = (await room.listHistory({ limit: 1 })).entries;
    expect(newest).toMatchObject({ clock: 21, clientId: '' });
    // The restore is history too: reading just before it gives the pre-restore state.
    expect(live(await room.readAt(20))).toEqual(states[20]);
    const again = await ctx.cycle(room, 'h2-restore');
    expect(again.getSnapshot().state).toEqual(states[8]?.state);
    expect(again.getTimestamp()).toBe(21);
  });

  it('[H2] restoring to the current clock changes nothing and does not advance the clock', async () => {
    const room = await ctx.open('h2-noop');
    await randomHistory(room, 5, 3);
    expect(await room.restoreTo(5)).toEqual({ clock: 5 });
    expect(room.getTimestamp()).toBe(5);
  });

  it('[H3] retention by count: states inside it stay readable, older ones throw HistoryHorizonError, old tombstones are compacted', async () => {
    const storage = ctx.backend.historyStorageFor?.('h3-count', { history: { maxEntries: 5 } });
    if (!storage) throw new Error('a history backend must offer historyStorageFor');
    const room = await ctx.open('h3-count', { storage });
    const c = connect(room);
    write(c, { dead: { _exists: true } });
    write(c, { dead: { _exists: false } });
    await room.flush();
    const reference = new ClockedDocument();
    reference.applyPatches([{ dead: { _exists: true } }]);
    reference.applyPatches([{ dead: { _exists: false } }]);
    const states: RoomSnapshot[] = [];
    for (let step = 3; step <= 12; step++) {
      const patch = { [`k${step % 4}`]: { _exists: true, v: step } };
      write(c, patch);
      reference.applyPatches([patch]);
      states[step] = reference.toSnapshot({ includeTombstones: false });
      await room.flush();
    }
    expect(await room.historyHorizon()).toBe(7);
    for (let clock = 7; clock <= 12; clock++) expect(live(await room.readAt(clock))).toEqual(states[clock]);
    const refused = await room.readAt(6).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HistoryHorizonError);
    expect(refused).toMatchObject({ code: 'history_horizon', clock: 6, horizon: 7 });
    await expect(room.restoreTo(3)).rejects.toBeInstanceOf(HistoryHorizonError);
    expect((await allEntries(room)).map((e) => e.clock)).toEqual([12, 11, 10, 9, 8]);
    // Tombstones at or before the horizon are swept as the room commits (at the latest, at the
    // first commit after it reopens); the deletion at clock 2 then leaves no trace in storage.
    const again = await ctx.cycle(room, 'h3-count');
    write(connect(again), { k0: { v: 0 } });
    await again.flush();
    const reader = ctx.backend.storageFor('h3-count');
    const stored = await reader.load();
    expect(Object.keys(stored?.state ?? {}).sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
  });

  it('[H3] retention by age: writes older than maxAgeMs are dropped as the room commits', async () => {
    let now = 1_000_000;
    const storage = ctx.backend.historyStorageFor?.('h3-age', {
      history: { maxAgeMs: 1000 },
      now: () => now,
    });
    if (!storage) throw new Error('a history backend must offer historyStorageFor');
    const room = await ctx.open('h3-age', { storage });
    const c = connect(room);
    for (let step = 1; step <= 3; step++) {
      write(c, { k: { _exists: true, v: step } });
      await room.flush();
    }
    expect(await room.historyHorizon()).toBe(0);
    now += 5000;
    write(c, { k: { v: 4 } });
    await room.flush();
    // The write at clock 4 was committed "now"; the three before it are past the age limit.
    expect(await room.historyHorizon()).toBe(3);
    expect((await allEntries(room)).map((e) => e.clock)).toEqual([4]);
    expect(live(await room.readAt(3)).state).toEqual({ k: { _exists: true, v: 3 } });
  });

  it('[H3][B7] retention by bytes: the newest writes within maxBytes are kept, older ones are compacted, before and after a restart', async () => {
    const dropped: Array<[string, number]> = [];
    // Each edit of `big` keeps its previous 1,000-character text: about 1,150 bytes an entry with its stamps and author.
    const storage = ctx.backend.historyStorageFor?.('h3-bytes', {
      history: { maxBytes: 6_000, onDropped: (reason, entries) => dropped.push([reason, entries]) },
    });
    if (!storage) throw new Error('a history backend must offer historyStorageFor');
    const room = await ctx.open('h3-bytes', { storage });
    const c = connect(room);
    const reference = new ClockedDocument();
    const states: RoomSnapshot[] = [];
    for (let step = 1; step <= 12; step++) {
      const patch = { big: { _exists: true, text: `${step}`.padStart(1_000, '.') } };
      write(c, patch);
      reference.applyPatches([patch]);
      states[step] = reference.toSnapshot({ includeTombstones: false });
      await room.flush();
    }
    // Five entries fit in 6,000 bytes, six do not.
    expect(await room.historyHorizon()).toBe(7);
    expect((await allEntries(room)).map((e) => e.clock)).toEqual([12, 11, 10, 9, 8]);
    for (let clock = 7; clock <= 12; clock++) expect(live(await room.readAt(clock))).toEqual(states[clock]);
    await expect(room.readAt(6)).rejects.toBeInstanceOf(HistoryHorizonError);
    expect(dropped.every(([reason]) => reason === 'bytes')).toBe(true);
    expect(dropped.reduce((sum, [, entries]) => sum + entries, 0)).toBe(7);
    // An entry larger than the bound by itself (it keeps the 7,000 characters it replaced) is
    // not kept, nor is anything older: only the current state is readable.
    write(c, { big: { text: 'x'.repeat(7_000) } });
    write(c, { big: { text: 'short' } });
    await room.flush();
    expect(await room.historyHorizon()).toBe(14);
    expect(await allEntries(room)).toEqual([]);
    const again = await ctx.cycle(room, 'h3-bytes');
    expect(await again.historyHorizon()).toBe(14);
    expect(live(await again.readAt(14))).toEqual(again.getSnapshot());
  });

  it.each([
    ['maxEntries', { maxEntries: 0 }],
    ['maxBytes', { maxBytes: 0 }],
  ])('[H3] history off (%s 0): nothing kept, only the current state readable', async (name, history) => {
    const storage = ctx.backend.historyStorageFor?.(`h3-off-${name}`, { history });
    if (!storage || !hasHistory(storage)) throw new Error('a history backend must offer historyStorageFor');
    expect(storage.keepsHistory()).toBe(false);
    const room = await ctx.open(`h3-off-${name}`, { storage });
    await randomHistory(room, 6, 1);
    expect(await allEntries(room)).toEqual([]);
    expect(await room.historyHorizon()).toBe(6);
    expect(live(await room.readAt(6))).toEqual(room.getSnapshot());
    await expect(room.readAt(5)).rejects.toBeInstanceOf(HistoryHorizonError);
  });
}
