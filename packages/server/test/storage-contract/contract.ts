import { describe, expect, it } from 'vitest';
import { ClockedDocument, type Patch, type RoomSnapshot } from '../../src/index.js';
import { connect } from '../helpers/room-harness.js';
import { describeDurabilityContract } from './contract-durability.js';
import {
  acks,
  type BackendFactory,
  type ContractContext,
  type ContractTraits,
  contractContext,
  reconnectReply,
  turns,
  waitFor,
  wrapStorage,
  write,
} from './contract-helpers.js';
import { describeHistoryContract } from './contract-history.js';

export type { BackendFactory, ContractBackend, ContractTraits } from './contract-helpers.js';

/**
 * The storage contract (ARCHITECTURE "one contract suite per interface"): every
 * backend runs it through real Rooms. `factory` opens a fresh backend per test.
 */
export function describeStorageContract(name: string, factory: BackendFactory, traits: ContractTraits): void {
  describe(`${name} storage contract`, () => {
    const ctx = contractContext(factory, traits);
    describeDocumentContract(ctx);
    describeDurabilityContract(ctx);
    if (traits.history) describe('history', () => describeHistoryContract(ctx));
  });
}

/** The live document a stored snapshot restores to (what getSnapshot() would return). */
function liveOf(stored: RoomSnapshot | null): RoomSnapshot | null {
  return stored === null
    ? null
    : ClockedDocument.fromSnapshot(stored).toSnapshot({ includeTombstones: false });
}

function describeDocumentContract(ctx: ContractContext): void {
  it('[P1][D10] a room reopened over a fresh storage loads exactly the closed room\u2019s snapshot and clock', async () => {
    const room = await ctx.open('round-trip');
    const a = connect(room);
    const b = connect(room);
    write(a, {
      'e1/Shape': { _exists: true, _version: '2', kind: 'rect', x: 1.5, y: -2, tags: ['a', 'b'] },
      'SINGLETON/Doc': {
        _exists: true,
        title: 'h\u00e9llo "world"\n',
        meta: { n: null, deep: [[1], { z: 0 }] },
      },
    });
    write(b, { 'e2/Shape': { _exists: true, kind: 'ellipse', flag: false, empty: {} } });
    await turns(1);
    write(a, { 'e1/Shape': { x: 3 } }, { 'e3/Text': { _exists: true, text: '' } });
    const before = room.getSnapshot();
    expect(before.timestamp).toBe(3);
    expect(Object.keys(before.state).sort()).toEqual(['SINGLETON/Doc', 'e1/Shape', 'e2/Shape', 'e3/Text']);

    const again = await ctx.cycle(room, 'round-trip');
    expect(again.getSnapshot()).toEqual(before);
    // The clock continues from the stored one: the next write is stamped 4 (D1).
    const c = connect(again);
    const id = write(c, { 'e4/Shape': { _exists: true } });
    await again.flush();
    expect(c.socket.ofType('ack')).toEqual([{ type: 'ack', messageId: id, timestamp: 4 }]);
  });

  it('[P1] a room never written loads empty at clock 0; load() of an unknown room is null', async () => {
    expect(await ctx.backend.storageFor('never-seen').load()).toBeNull();
    const room = await ctx.open('opened-only');
    expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    const again = await ctx.cycle(room, 'opened-only');
    expect(again.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
  });

  it('[P1] keys and field names are opaque strings: unusual ones round-trip exactly', async () => {
    const keys = [
      '',
      ' ',
      'a/b/c',
      '\u00fc/\u00f1?#%',
      '\u{1f3a8}/Shape',
      'line\nbreak',
      '"quoted"\\',
      'x'.repeat(512),
    ];
    const room = await ctx.open('odd-keys');
    const patch: Patch = {};
    for (const [i, key] of keys.entries()) patch[key] = { _exists: true, '': i, 'f\u00e9ld "x"': [key] };
    write(connect(room), patch);
    const before = room.getSnapshot();
    expect(Object.keys(before.state)).toHaveLength(keys.length);
    const again = await ctx.cycle(room, 'odd-keys');
    expect(again.getSnapshot()).toEqual(before);
  });

  for (const [label, odd] of [
    ['a NUL character', '\u0000'],
    ['a lone surrogate', '\ud800'],
  ] as const) {
    it(`[P1][B1] a key and a field name holding ${label} round-trip exactly once acked`, async () => {
      const room = await ctx.open('hostile-keys');
      const a = connect(room);
      write(a, {
        [`key${odd}`]: { _exists: true, [`field${odd}`]: `value${odd}` },
        plain: { _exists: true },
      });
      // A backend that cannot store the key fails the commit (it would be retried forever).
      await waitFor(
        () => acks(a).length + a.socket.ofType('error').length + room.stats.commitFailures > 0,
        'an ack, an error frame or a failed commit',
      );
      if (a.socket.ofType('error').length > 0) {
        // Refusing such names up front (SPEC B2) is correct too, if nothing of the frame applied.
        expect(acks(a)).toEqual([]);
        expect(room.getSnapshot()).toEqual({ timestamp: 0, state: {}, timestamps: {} });
        return;
      }
      expect(room.stats.commitFailures).toBe(0);
      const before = room.getSnapshot();
      const again = await ctx.cycle(room, 'hostile-keys');
      expect(again.getSnapshot()).toEqual(before);
      expect(Object.keys(again.getSnapshot().state).sort()).toEqual([`key${odd}`, 'plain']);
    });
  }

  it('[D3][D1][D7] per-field stamps survive restarts exactly, including partial updates', async () => {
    const room = await ctx.open('stamps');
    const a = connect(room);
    write(a, { k: { _exists: true, a: 1, b: 1, c: 1 } }); // clock 1
    write(a, { k: { b: 2 } }); // 2
    await turns(1);
    write(a, { j: { _exists: true, v: 0 } }); // 3
    write(a, { k: { c: 3 } }); // 4
    const first = await ctx.cycle(room, 'stamps');
    expect(first.getSnapshot()).toEqual({
      timestamp: 4,
      state: { k: { _exists: true, a: 1, b: 2, c: 3 }, j: { _exists: true, v: 0 } },
      timestamps: { k: { _exists: 1, a: 1, b: 2, c: 4 }, j: { _exists: 3, v: 3 } },
    });
    write(connect(first), { k: { a: 'x' } }); // 5
    const second = await ctx.cycle(first, 'stamps');
    expect(second.getSnapshot().timestamps).toEqual({
      k: { _exists: 1, a: 5, b: 2, c: 4 },
      j: { _exists: 3, v: 3 },
    });
    // A client that saw clock 3 is sent only the fields stamped after it.
    expect(await reconnectReply(second, 3)).toEqual({ k: { a: 'x', c: 3 } });
    expect(await reconnectReply(second, 5)).toBeNull();
  });

  it('[D6] buffer deltas are stored as whole arrays and keep working after restarts', async () => {
    const room = await ctx.open('buffers');
    const a = connect(room);
    write(a, { k: { _exists: true, pts: { __buf: 1, len: 4, runs: [[1, [5, 6]]] } } }); // [0,5,6,0]
    await turns(1);
    write(a, { k: { pts: { __buf: 1, len: 6, runs: [[4, [9]]] } } }); // [0,5,6,0,9,0]
    write(a, { k: { pts: { __buf: 1, len: 3, runs: [[0, [7]]] } } }); // [7,5,6]
    await room.close();

    const stored = await ctx.backend.storageFor('buffers').load();
    expect(stored?.state.k).toEqual({ _exists: true, pts: [7, 5, 6] });
    expect(JSON.stringify(stored)).not.toContain('__buf');

    const again = await ctx.reopen('buffers');
    expect(again.getSnapshot()).toEqual({
      timestamp: 3,
      state: { k: { _exists: true, pts: [7, 5, 6] } },
      timestamps: { k: { _exists: 1, pts: 3 } },
    });
    // The restored value is a real array a later delta builds on.
    write(connect(again), { k: { pts: { __buf: 1, len: 4, runs: [[2, [8]]] } } });
    const third = await ctx.cycle(again, 'buffers');
    expect(third.getSnapshot().state.k).toEqual({ _exists: true, pts: [7, 5, 8, 0] });
    expect(third.getSnapshot().timestamps.k).toEqual({ _exists: 1, pts: 4 });
  });

  it('[D9][P2] a deletion survives several restarts with writes in between', async () => {
    const room = await ctx.open('tombstones');
    const a = connect(room);
    write(a, { a: { _exists: true, x: 1 }, b: { _exists: true, y: 1 }, c: { _exists: true, z: 1 } }); // 1
    write(a, { b: { _exists: false } }); // 2
    const second = await ctx.cycle(room, 'tombstones');
    expect(second.getSnapshot().state).not.toHaveProperty('b');
    write(connect(second), { d: { _exists: true, w: 1 } }); // 3
    const third = await ctx.cycle(second, 'tombstones');
    write(connect(third), { a: { x: 2 } }); // 4
    const fourth = await ctx.cycle(third, 'tombstones');
    const fifth = await ctx.cycle(fourth, 'tombstones'); // a restart without writes

    const snapshot = fifth.getSnapshot();
    expect(snapshot.state).not.toHaveProperty('b');
    expect(snapshot.timestamps).not.toHaveProperty('b');
    expect(snapshot).toEqual({
      timestamp: 4,
      state: { a: { _exists: true, x: 2 }, c: { _exists: true, z: 1 }, d: { _exists: true, w: 1 } },
      timestamps: { a: { _exists: 1, x: 4 }, c: { _exists: 1, z: 1 }, d: { _exists: 3, w: 3 } },
    });
    // A client away since clock 1 learns of the deletion (D7, D9).
    expect(await reconnectReply(fifth, 1)).toEqual({
      b: { _exists: false },
      d: { _exists: true, w: 1 },
      a: { x: 2 },
    });
    expect(await reconnectReply(fifth, 0)).toMatchObject({ b: { _exists: false } });
    expect(await reconnectReply(fifth, 2)).not.toHaveProperty('b');
    // What the storage holds keeps the tombstone with its stamp.
    await fifth.close();
    const stored = await ctx.backend.storageFor('tombstones').load();
    expect(stored?.state.b).toEqual({ _exists: false });
    expect(stored?.timestamps.b).toEqual({ _exists: 2 });
  });

  it('[D5][D9] a key re-created after its deletion comes back after restart with only its new fields', async () => {
    const room = await ctx.open('recreate');
    const a = connect(room);
    write(a, { k: { _exists: true, a: 1, b: 2, c: 3 }, q: { _exists: true, a: 1, b: 2 } }); // 1
    await turns(1);
    // q is deleted and re-created in one event-loop iteration (one commit batch).
    write(a, { q: { _exists: false } }); // 2
    write(a, { q: { _exists: true, e: 5 } }); // 3
    write(a, { k: { _exists: false } }); // 4
    const again = await ctx.cycle(room, 'recreate');
    write(connect(again), { k: { _exists: true, d: 4 } }); // 5
    const third = await ctx.cycle(again, 'recreate');
    expect(third.getSnapshot()).toEqual({
      timestamp: 5,
      state: { k: { _exists: true, d: 4 }, q: { _exists: true, e: 5 } },
      timestamps: { k: { _exists: 5, d: 5 }, q: { _exists: 3, e: 3 } },
    });
  });

  it('[D7][D9] the deletion stamp of a re-created key survives restarts: the reply leads with its tombstone', async () => {
    const room = await ctx.open('deleted-at');
    const a = connect(room);
    write(a, { k: { _exists: true, a: 1 }, q: { _exists: true, a: 1 } }); // 1
    await turns(1);
    write(a, { q: { _exists: false } }); // 2
    write(a, { q: { _exists: true, e: 5 } }); // 3
    await turns(1);
    write(a, { k: { _exists: false } }); // 4
    await turns(1);
    write(a, { k: { _exists: true, d: 4 } }); // 5
    const again = await ctx.cycle(room, 'deleted-at');
    write(connect(again), { q: { e: 6 } }); // 6: an edit keeps q's deletion stamp
    const third = await ctx.cycle(again, 'deleted-at');
    const client = connect(third);
    client.socket.clear();
    client.send({ type: 'reconnect', lastTimestamp: 1, protocolVersion: 2 });
    await waitFor(() => client.socket.ofType('synced').length > 0, 'the reconnect reply');
    expect(client.socket.ofType('patch')[0]?.documentPatches).toEqual([
      { k: { _exists: false }, q: { _exists: false } },
      { k: { _exists: true, d: 4 }, q: { _exists: true, e: 6 } },
    ]);
    // A client that saw the deletion of q (clock 3) only lacks k's.
    client.socket.clear();
    client.send({ type: 'reconnect', lastTimestamp: 3, protocolVersion: 2 });
    await waitFor(() => client.socket.ofType('synced').length > 0, 'the reconnect reply');
    expect(client.socket.ofType('patch')[0]?.documentPatches).toEqual([
      { k: { _exists: false } },
      { k: { _exists: true, d: 4 }, q: { e: 6 } },
    ]);
  });

  it('[P1][B5] 20 rooms in one backend are independent', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `multi-${i}`);
    const rooms = await Promise.all(ids.map((id) => ctx.open(id)));
    const clients = rooms.map((room) => connect(room));
    // Every room writes the same key names in the same iterations, with its own values.
    for (let frame = 0; frame < 3; frame++) {
      ids.forEach((id, i) => {
        const client = clients[i];
        if (!client || frame > i % 3) return;
        write(
          client,
          { shared: { _exists: true, owner: id, frame } },
          { [`own-${id}`]: { _exists: true, i } },
        );
        if (i % 2 === 0 && frame === 0)
          write(client, { gone: { _exists: true } }, { gone: { _exists: false } });
      });
      await turns(1);
    }
    const expected = rooms.map((room) => room.getSnapshot());
    await Promise.all(rooms.map((room) => room.close()));
    await ctx.backend.restart();
    for (const [i, id] of ids.entries()) {
      const again = await ctx.open(id);
      const snapshot = again.getSnapshot();
      expect(snapshot).toEqual(expected[i]);
      expect(snapshot.timestamp).toBe((i % 3) + 1 + (i % 2 === 0 ? 1 : 0));
      expect(Object.keys(snapshot.state).sort()).toEqual([`own-${id}`, 'shared']);
      expect(snapshot.state.shared).toEqual({ _exists: true, owner: id, frame: i % 3 });
      if (i % 2 === 0) expect(await reconnectReply(again, 0)).toMatchObject({ gone: { _exists: false } });
      else expect(await reconnectReply(again, 0)).not.toHaveProperty('gone');
      await again.close();
    }
  });

  it('[P1][O1][O2] writes in one iteration and across iterations, interleaved with flush(), persist in order', async () => {
    const batches: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const storage = wrapStorage(ctx.backend.storageFor('concurrent'), {
      beforeCommit: (batch) => {
        batches.push(batch.timestamp);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
      },
      afterCommit: () => {
        inFlight--;
      },
    });
    const room = await ctx.open('concurrent', { storage });
    const clients = [connect(room), connect(room), connect(room)];
    const sent = new Map<string, string[]>(clients.map((c) => [c.clientId, []]));
    const flushes: Promise<void>[] = [];
    let frames = 0;
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 15; i++) {
        const client = clients[i % 3];
        if (!client) continue;
        const patch: Patch = {
          [`k${i % 5}`]: { _exists: true, v: round * 100 + i, by: client.clientId },
          [`round-${round}`]: { [`f${i}`]: i },
        };
        if (i === 7) patch.k2 = { _exists: false };
        sent.get(client.clientId)?.push(write(client, patch));
        frames++;
      }
      if (round % 2 === 0) flushes.push(room.flush());
      if (round % 3 === 0) await turns(1);
      else await Promise.resolve();
    }
    await Promise.all(flushes);
    await room.flush();
    const expected = room.getSnapshot();
    expect(expected.timestamp).toBe(frames);
    // Every write was acked exactly once, in sending order, with increasing clocks.
    const ackClocks: number[] = [];
    for (const client of clients) {
      const received = client.socket.ofType('ack');
      expect(received.map((ack) => ack.messageId)).toEqual(sent.get(client.clientId));
      const clocks = received.map((ack) => ack.timestamp);
      expect(clocks).toEqual([...clocks].sort((x, y) => x - y));
      ackClocks.push(...clocks);
    }
    expect(ackClocks.sort((x, y) => x - y)).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
    if (ctx.traits.durable) {
      // Commits are issued one at a time, in clock order (IncrementalStorage contract).
      expect(maxInFlight).toBe(1);
      expect(batches).toEqual([...new Set(batches)].sort((x, y) => x - y));
      expect(batches.at(-1)).toBe(frames);
    }
    // Already after flush() (before close) a fresh storage instance holds the final state.
    expect(liveOf(await ctx.backend.storageFor('concurrent').load())).toEqual(expected);
    const again = await ctx.cycle(room, 'concurrent');
    expect(again.getSnapshot()).toEqual(expected);
  });

  it('[P1][D10] a document of 20,000 components with 8 fields each round-trips, then changes incrementally', {
    timeout: 180_000,
  }, async () => {
    const room = await ctx.open('large');
    const a = connect(room);
    const perFrame = 1000;
    for (let frame = 0; frame < 20; frame++) {
      const patch: Patch = {};
      for (let i = frame * perFrame; i < (frame + 1) * perFrame; i++) {
        patch[`e${i}/Shape`] = {
          _exists: true,
          x: i * 1.5,
          y: -i,
          w: i % 97,
          label: `item ${i}`,
          visible: i % 2 === 0,
          points: [i, i + 1, i + 2],
          style: { fill: `#${(i % 4096).toString(16)}`, stroke: null },
        };
      }
      write(a, patch);
      if (frame === 9) await turns(1);
    }
    const before = room.getSnapshot();
    expect(Object.keys(before.state)).toHaveLength(20_000);
    const again = await ctx.cycle(room, 'large');
    expect(again.getSnapshot()).toEqual(before);

    const b = connect(again);
    const change: Patch = {};
    for (let i = 0; i < 20_000; i += 40) change[`e${i}/Shape`] = { x: -1 };
    for (let i = 1; i < 20_000; i += 40) change[`e${i}/Shape`] = { _exists: false };
    write(b, change);
    const changed = again.getSnapshot();
    expect(Object.keys(changed.state)).toHaveLength(19_500);
    const third = await ctx.cycle(again, 'large');
    expect(third.getSnapshot()).toEqual(changed);
    expect(third.getSnapshot().timestamps['e40/Shape']).toMatchObject({ x: 21, y: 1 });
  });
}
