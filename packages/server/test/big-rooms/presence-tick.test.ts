import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Patch, PatchBroadcast, RoomObserver } from '../../src/index.js';
import { MemoryStorage } from '../../src/index.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';

/**
 * Presence coalescing in one room, with fake timers so every tick is
 * deterministic (SPEC R1-R3). The assertions are on the frames each socket
 * received and the values they carry, never on timing.
 */

const TICK = 50;

function patches(client: FakeClient): PatchBroadcast[] {
  return client.socket.ofType('patch');
}

/** What a client that applies every ephemeral patch in order ends up holding. */
function presenceSeen(client: FakeClient): Record<string, Record<string, unknown>> {
  const seen: Record<string, Record<string, unknown>> = {};
  for (const frame of patches(client)) {
    for (const patch of frame.ephemeralPatches ?? []) {
      for (const [key, data] of Object.entries(patch)) {
        if (data._exists === false) delete seen[key];
        else seen[key] = { ...seen[key], ...data };
      }
    }
  }
  return seen;
}

function move(client: FakeClient, id: string, ephemeral: Patch[], documentPatches?: Patch[]): void {
  client.send({ type: 'patch', messageId: id, ephemeralPatches: ephemeral, documentPatches });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('presence coalescing (R1)', () => {
  it('[R1][E1] many cursor moves within a tick reach the others as one patch frame with clientId "" and the last position', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    vi.advanceTimersByTime(TICK);
    b.socket.clear();
    move(a, 'm0', [{ 'cursor/a': { _exists: true, x: 0, y: 0 } }]);
    for (let i = 1; i <= 20; i++) move(a, `m${i}`, [{ 'cursor/a': { x: i } }]);
    expect(patches(b)).toEqual([]); // nothing leaves before the tick
    expect(a.socket.ofType('ack')).toHaveLength(21); // acks are not delayed
    vi.advanceTimersByTime(TICK);
    expect(patches(b)).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/a': { _exists: true, x: 20, y: 0 } }] },
    ]);
    expect(patches(a)).toEqual([]); // never echoed to the author (A3)
  });

  it('[R1] every other client’s latest value arrives, each recipient without its own', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const clients = ['a', 'b', 'c', 'd'].map((clientId) => connect(room, { clientId }));
    vi.advanceTimersByTime(TICK);
    for (const [n, client] of clients.entries()) {
      move(client, 'c', [{ [`cursor/${client.clientId}`]: { _exists: true, x: n } }]);
      move(client, 'm', [{ [`cursor/${client.clientId}`]: { x: n * 10, y: n } }]);
    }
    vi.advanceTimersByTime(TICK);
    for (const [n, client] of clients.entries()) {
      const expected: Record<string, unknown> = {};
      for (const [m, other] of clients.entries()) {
        if (m !== n) expected[`cursor/${other.clientId}`] = { _exists: true, x: m * 10, y: m };
      }
      expect(presenceSeen(client)).toEqual(expected);
      expect(patches(client)).toHaveLength(1);
    }
  });

  it('[R1][E3] a departure’s deletion is never overtaken by an older value', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    move(a, 'm2', [{ 'cursor/a': { x: 2 } }]);
    room.handleSocketClose(a.sessionId);
    vi.advanceTimersByTime(TICK * 3);
    expect(presenceSeen(b)).toEqual({});
    const last = patches(b).at(-1)?.ephemeralPatches;
    expect(last?.at(-1)).toEqual({ 'cursor/a': { _exists: false } });
  });

  it('[R1][E3] a key deleted and created again within a tick arrives as a deletion, then the whole new component', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    move(a, 'm1', [{ 'presence/a': { _exists: true, name: 'A', color: 'red' } }]);
    vi.advanceTimersByTime(TICK);
    b.socket.clear();
    move(a, 'm2', [{ 'presence/a': { _exists: false } }, { 'presence/a': { _exists: true, name: 'A2' } }]);
    vi.advanceTimersByTime(TICK);
    expect(patches(b)).toEqual([
      {
        type: 'patch',
        clientId: '',
        ephemeralPatches: [
          { 'presence/a': { _exists: false } },
          { 'presence/a': { _exists: true, name: 'A2' } },
        ],
      },
    ]);
  });

  it('[R1][O2][O3] a document write is not delayed and carries its ephemeral part; no older value follows it', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    vi.advanceTimersByTime(TICK);
    b.socket.clear();
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    move(a, 'm2', [{ 'cursor/a': { x: 2 } }], [{ shape: { _exists: true, w: 5 } }]);
    // The document write left at once, with its ephemeral part (A3).
    expect(patches(b)).toEqual([
      {
        type: 'patch',
        clientId: 'a',
        documentPatches: [{ shape: { _exists: true, w: 5 } }],
        timestamp: 1,
        ephemeralPatches: [{ 'cursor/a': { x: 2 } }],
      },
    ]);
    vi.advanceTimersByTime(TICK);
    // The tick reads the current state: it never sends x: 1 after x: 2.
    expect(presenceSeen(b)).toEqual({ 'cursor/a': { _exists: true, x: 2 } });
    const xs = patches(b).flatMap((f) => (f.ephemeralPatches ?? []).map((p) => p['cursor/a']?.x));
    expect(xs).toEqual([2, 2]);
  });

  it('[R1][O4] with an incremental storage, coalesced presence waits behind a write that is not yet durable', async () => {
    vi.useRealTimers();
    const room = createRoom({ presenceTickMs: 1, storage: new MemoryStorage() });
    await room.load();
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    await vi.waitFor(() => expect(b.socket.ofType('clientCount').at(-1)?.count).toBe(2));
    b.socket.clear();
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 1 } }], [{ k: { _exists: true } }]);
    move(a, 'm2', [{ 'cursor/a': { x: 2 } }]);
    await vi.waitFor(() => expect(presenceSeen(b)).toEqual({ 'cursor/a': { _exists: true, x: 2 } }));
    expect(patches(b)[0]?.documentPatches).toEqual([{ k: { _exists: true } }]);
  });
});

describe('joins within a tick (R1, E2, E3)', () => {
  it('[R1][E2] a session that joins after a change gets it in its snapshot, not again at the tick; later changes it does get', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    vi.advanceTimersByTime(TICK);
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    const late = connect(room, { clientId: 'late' });
    expect(presenceSeen(late)).toEqual({ 'cursor/a': { _exists: true, x: 1 } });
    vi.advanceTimersByTime(TICK);
    expect(patches(late)).toHaveLength(1);
    move(a, 'm2', [{ 'cursor/a': { x: 2 } }]);
    vi.advanceTimersByTime(TICK);
    expect(presenceSeen(late)).toEqual({ 'cursor/a': { _exists: true, x: 2 } });
  });

  it('[R1][E3] a client that leaves and comes back within a tick is sent neither its own deletion nor its own value', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    vi.advanceTimersByTime(TICK);
    b.socket.clear();
    room.handleSocketClose(a.sessionId);
    const back = connect(room, { clientId: 'a' });
    move(back, 'm2', [{ 'cursor/a': { _exists: true, x: 7 } }]);
    vi.advanceTimersByTime(TICK);
    expect(patches(back)).toEqual([]);
    // The others see the old cursor go and the new one come, in that order.
    expect(patches(b)).toEqual([
      {
        type: 'patch',
        clientId: '',
        ephemeralPatches: [{ 'cursor/a': { _exists: false } }, { 'cursor/a': { _exists: true, x: 7 } }],
      },
    ]);
  });
});

describe('client count coalescing (R2, S1)', () => {
  it('[R2][S1] a burst of joins and leaves sends one clientCount per tick, with the latest count', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const first = connect(room, { clientId: 'first' });
    const others = Array.from({ length: 10 }, (_, i) => connect(room, { clientId: `c${i}` }));
    for (const client of others.slice(0, 4)) room.handleSocketClose(client.sessionId);
    vi.advanceTimersByTime(TICK);
    expect(first.socket.ofType('clientCount')).toEqual([{ type: 'clientCount', count: 7 }]);
    expect(others[9]?.socket.ofType('clientCount')).toEqual([{ type: 'clientCount', count: 7 }]);
    expect(room.getSessionCount()).toBe(7);
  });

  it('[R2][E2] a newcomer still gets the others’ presence at once, then the count at the tick', () => {
    const room = createRoom({ presenceTickMs: TICK });
    const a = connect(room, { clientId: 'a' });
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 3 } }]);
    vi.advanceTimersByTime(TICK);
    const late = connect(room, { clientId: 'late' });
    expect(late.socket.messages).toEqual([
      { type: 'patch', clientId: '', ephemeralPatches: [{ 'cursor/a': { _exists: true, x: 3 } }] },
    ]);
    vi.advanceTimersByTime(TICK);
    expect(late.socket.ofType('clientCount')).toEqual([{ type: 'clientCount', count: 2 }]);
  });
});

describe('tick 0 and the byte budget', () => {
  it('[R1][S1] presenceTickMs 0 sends every update with its author and every count at once, as before', () => {
    const room = createRoom({ presenceTickMs: 0 });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    expect(a.socket.ofType('clientCount').map((f) => f.count)).toEqual([1, 2]);
    move(a, 'm1', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    move(a, 'm2', [{ 'cursor/a': { x: 2 } }]);
    expect(patches(b)).toEqual([
      { type: 'patch', clientId: 'a', ephemeralPatches: [{ 'cursor/a': { _exists: true, x: 1 } }] },
      { type: 'patch', clientId: 'a', ephemeralPatches: [{ 'cursor/a': { x: 2 } }] },
    ]);
  });

  it('[R1] a tick larger than the byte budget allows stretches the next tick; every value still arrives', () => {
    const budget = 1000; // bytes per second per recipient
    const room = createRoom({ presenceTickMs: TICK, presenceBytesPerSecond: budget });
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    vi.advanceTimersByTime(TICK);
    b.socket.clear();
    move(a, 'm0', [{ 'cursor/a': { _exists: true, label: 'x'.repeat(200) } }]);
    vi.advanceTimersByTime(1);
    const first = b.socket.sent.length;
    expect(first).toBe(1);
    const bytes = b.socket.sent[0]?.length ?? 0;
    move(a, 'm1', [{ 'cursor/a': { n: 1 } }]);
    // Under the budget the next tick may only come after 1000 × bytes ÷ budget ms.
    vi.advanceTimersByTime(Math.ceil((bytes * 1000) / budget) - 2);
    expect(b.socket.sent.length).toBe(first);
    vi.advanceTimersByTime(5);
    expect(presenceSeen(b)['cursor/a']).toMatchObject({ n: 1 });
  });

  it('[R1] invalid presence options are refused with a RangeError naming the option', () => {
    expect(() => createRoom({ presenceTickMs: -1 })).toThrow(/presenceTickMs/);
    expect(() => createRoom({ presenceTickMs: Number.NaN })).toThrow(/presenceTickMs/);
    expect(() => createRoom({ presenceBytesPerSecond: 0 })).toThrow(/presenceBytesPerSecond/);
  });

  it('[R1] the observer hears each tick with the updates folded away and the bytes saved', () => {
    const ticks: Array<[number, number]> = [];
    const observer: RoomObserver = { presenceTick: (coalesced, saved) => ticks.push([coalesced, saved]) };
    const room = createRoom({ presenceTickMs: TICK, observer });
    const a = connect(room, { clientId: 'a' });
    connect(room, { clientId: 'b' });
    connect(room, { clientId: 'c' });
    vi.advanceTimersByTime(TICK);
    ticks.length = 0;
    move(a, 'm0', [{ 'cursor/a': { _exists: true, x: 0 } }]);
    for (let i = 1; i <= 9; i++) move(a, `m${i}`, [{ 'cursor/a': { x: i } }]);
    vi.advanceTimersByTime(TICK);
    expect(ticks).toHaveLength(1);
    expect(ticks[0]?.[0]).toBe(9);
    expect(ticks[0]?.[1]).toBeGreaterThan(0);
  });
});
