import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Patch, PatchBroadcast } from '../../src/index.js';
import { type Fragment, fanOut, recipientFrame } from '../../src/room/presence-fan-out.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';
import { seededRandom } from '../helpers/seeded-random.js';

/**
 * The presence tick's fan-out (SPEC R1, A3) builds one shared frame and cuts
 * each author's own fragments out of it. These tests check, on random ticks,
 * that every recipient gets exactly the frame assembled for it alone
 * (`recipientFrame`, the per-recipient assembly the tick used before), and,
 * through a real room on random schedules, that what clients end up holding
 * is every other client's current presence.
 */

interface Recipient {
  readonly name: string;
}

const SEEDS = 200;

/** A JSON key-value text like the tick's fragments, with characters that would confuse a text search. */
function entry(random: () => number, index: number): string {
  const key = JSON.stringify(`cursor/${index}`);
  const roll = random();
  if (roll < 0.15) return `${key}:{"_exists":false}`;
  const label = ['a,b', '{x}', '"q"', 'é', '\u{1F600}', ''][Math.floor(random() * 6)];
  return `${key}:${JSON.stringify({ x: Math.floor(random() * 1000), label })}`;
}

function randomTick(seed: number): {
  fragments: Fragment<Recipient>[];
  recipients: Recipient[];
  newcomers: Map<Recipient, number>;
} {
  const random = seededRandom(seed);
  const recipients = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) => ({ name: `r${i}` }));
  const count = Math.floor(random() * 25);
  const fragments: Fragment<Recipient>[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    // Mostly single authors, some of them with several keys; a few departures (null) and shared keys ('many').
    const author: Recipient | null | 'many' =
      roll < 0.1
        ? null
        : roll < 0.2
          ? 'many'
          : (recipients[Math.floor(random() * recipients.length)] as Recipient);
    const deleted = random() < 0.2;
    fragments.push({
      author,
      seq: 1 + Math.floor(random() * count * 2),
      first: deleted ? `${JSON.stringify(`cursor/${i}`)}:{"_exists":false}` : entry(random, i),
      // Created again after a deletion: a second part (sometimes even without the deletion, to cover the shape).
      second: random() < (deleted ? 0.6 : 0.05) ? entry(random, i) : null,
    });
  }
  const newcomers = new Map<Recipient, number>();
  for (const recipient of recipients) {
    if (random() < 0.1) newcomers.set(recipient, Math.floor(random() * count * 2));
  }
  return { fragments, recipients, newcomers };
}

describe('presence fan-out matches the per-recipient assembly (R1, A3)', () => {
  it(`[R1][A3] on ${SEEDS} random ticks every recipient gets exactly its own frame, once`, () => {
    let special = 0;
    let shared = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { fragments, recipients, newcomers } = randomTick(seed);
      const got = new Map<Recipient, string[]>();
      const result = fanOut(fragments, recipients, newcomers, (recipient, text) => {
        got.set(recipient, [...(got.get(recipient) ?? []), text]);
      });
      let sentBytes = 0;
      let largest = 0;
      const sharedText = recipientFrame(fragments, null, -1);
      for (const recipient of recipients) {
        const expected = recipientFrame(fragments, recipient, newcomers.get(recipient) ?? -1);
        const frames = got.get(recipient) ?? [];
        expect(frames, `seed ${seed}, ${recipient.name}`).toEqual(expected === null ? [] : [expected]);
        if (expected === null) continue;
        expect(() => JSON.parse(expected)).not.toThrow();
        sentBytes += expected.length;
        largest = Math.max(largest, expected.length);
        if (expected === sharedText) shared++;
        else special++;
      }
      expect(result, `seed ${seed}`).toEqual({ sentBytes, largest });
    }
    // The random ticks did exercise both paths.
    expect(shared).toBeGreaterThan(100);
    expect(special).toBeGreaterThan(100);
  });

  it('[A3] an author of every fragment gets nothing; one of several keys keeps the others', () => {
    const a = { name: 'a' };
    const b = { name: 'b' };
    const only: Fragment<Recipient>[] = [{ author: a, seq: 1, first: '"k":{"x":1}', second: null }];
    const got: string[] = [];
    fanOut(only, [a, b], new Map(), (recipient, text) => got.push(`${recipient.name} ${text}`));
    expect(got).toEqual([`b ${recipientFrame(only, null, -1)}`]);
    const several: Fragment<Recipient>[] = [
      { author: a, seq: 1, first: '"k1":{"_exists":false}', second: '"k1":{"_exists":true,"x":1}' },
      { author: b, seq: 2, first: '"k2":{"x":2}', second: null },
      { author: a, seq: 3, first: '"k3":{"x":3}', second: null },
    ];
    const frames = new Map<string, unknown>();
    fanOut(several, [a, b], new Map(), (recipient, text) => frames.set(recipient.name, JSON.parse(text)));
    expect(frames.get('a')).toEqual({ type: 'patch', clientId: '', ephemeralPatches: [{ k2: { x: 2 } }] });
    expect(frames.get('b')).toEqual({
      type: 'patch',
      clientId: '',
      ephemeralPatches: [{ k1: { _exists: false }, k3: { x: 3 } }, { k1: { _exists: true, x: 1 } }],
    });
  });
});

describe('presence fan-out in a room on random schedules (R1, A3, E3)', () => {
  const TICK = 50;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Applies one client's received ephemeral patches to its view. */
  function apply(view: Map<string, Record<string, unknown>>, frames: readonly PatchBroadcast[]): void {
    for (const frame of frames) {
      for (const patch of frame.ephemeralPatches ?? []) {
        for (const [key, data] of Object.entries(patch)) {
          if (data._exists === false) view.delete(key);
          else view.set(key, { ...view.get(key), ...data });
        }
      }
    }
  }

  it('[R1][A3][E3] after every tick each client holds every other client’s current presence, from at most one frame', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed * 7919);
      const room = createRoom({ presenceTickMs: TICK });
      const clients: FakeClient[] = Array.from({ length: 12 }, (_, i) =>
        connect(room, { clientId: `c${i}` }),
      );
      vi.advanceTimersByTime(TICK * 2);
      for (const client of clients) client.socket.clear();
      const views = new Map(clients.map((client) => [client, new Map<string, Record<string, unknown>>()]));
      // What each key holds now, by owner: the model the views must match.
      const model = new Map<string, Map<string, Record<string, unknown>>>();
      let live = [...clients];
      let message = 0;
      for (let round = 0; round < 30; round++) {
        const moves = Math.floor(random() * 12);
        for (let m = 0; m < moves && live.length > 0; m++) {
          const client = live[Math.floor(random() * live.length)] as FakeClient;
          const keys = model.get(client.clientId) ?? new Map<string, Record<string, unknown>>();
          model.set(client.clientId, keys);
          const key = `${client.clientId}/${random() < 0.7 ? 'cursor' : 'select'}`;
          const roll = random();
          let patch: Patch;
          if (keys.has(key) && roll < 0.15) {
            patch = { [key]: { _exists: false } };
            keys.delete(key);
          } else if (keys.has(key)) {
            patch = { [key]: { x: Math.floor(random() * 100) } };
            keys.set(key, { ...keys.get(key), ...patch[key] });
          } else {
            const value = { _exists: true, x: Math.floor(random() * 100), y: round };
            patch = { [key]: value };
            keys.set(key, value);
          }
          client.send({ type: 'patch', messageId: `m${++message}`, ephemeralPatches: [patch] });
        }
        if (random() < 0.1 && live.length > 2) {
          const leaving = live[Math.floor(random() * live.length)] as FakeClient;
          room.handleSocketClose(leaving.sessionId);
          live = live.filter((client) => client !== leaving);
          model.delete(leaving.clientId);
        }
        vi.advanceTimersByTime(TICK);
        for (const client of live) {
          const frames = client.socket.ofType('patch');
          expect(frames.filter((frame) => frame.clientId === '').length).toBeLessThanOrEqual(1);
          const view = views.get(client) as Map<string, Record<string, unknown>>;
          apply(view, frames);
          client.socket.clear();
          const expected = new Map<string, Record<string, unknown>>();
          for (const [owner, keys] of model) {
            if (owner === client.clientId) continue;
            for (const [key, value] of keys) expected.set(key, value);
          }
          expect(Object.fromEntries(view), `seed ${seed}, round ${round}, ${client.clientId}`).toEqual(
            Object.fromEntries(expected),
          );
        }
      }
    }
  });
});
