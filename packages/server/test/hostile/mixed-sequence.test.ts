import { describe, expect, it } from 'vitest';
import type { Patch } from '../../src/index.js';
import { ReferenceDoc } from '../harness/reference-doc.js';
import { HOSTILE_CASES, MIXED_CASES, RecordingStorage, recordingLogger } from '../helpers/hostile-inputs.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';
import { seededRandom as seeded } from '../helpers/seeded-random.js';

const STEPS = 1_500;
const BAD = [...HOSTILE_CASES, ...MIXED_CASES];

describe('a hostile client among honest ones', () => {
  it('[B1][B2][B3][B5][A1][A3][D1] a long seeded mix of bad frames leaves exactly the honest document', async () => {
    const random = seeded(0xc0ffee);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const storage = new RecordingStorage();
    const logger = recordingLogger();
    const room = createRoom({
      storage,
      logger,
      // The sequence is sent in one synchronous burst: lift rate limits and the invalid budget
      // so that validation, not rate limiting, is what this test exercises.
      limits: {
        framesPerSecond: 1e9,
        frameBurst: 1e9,
        bytesPerSecond: 1e12,
        byteBurst: 1e12,
        maxInvalidFramesPerMinute: 1e9,
      },
    });
    const hostile = connect(room, { clientId: 'hostile' });
    const alice = connect(room, { clientId: 'alice' });
    const bob = connect(room, { clientId: 'bob' });
    for (const c of [hostile, alice, bob]) c.socket.clear();

    const model = new ReferenceDoc();
    const expectedAcks = new Map<FakeClient, Array<{ type: 'ack'; messageId: string; timestamp: number }>>([
      [alice, []],
      [bob, []],
    ]);
    const expectedErrors: string[] = [];
    const honestEphemeral: Record<string, Record<string, unknown>> = {};

    for (let step = 0; step < STEPS; step++) {
      const roll = random();
      if (roll < 0.5) {
        const bad = pick(BAD);
        expectedErrors.push(bad.code);
        expect(() => hostile.sendRaw(bad.raw)).not.toThrow();
        continue;
      }
      const author = roll < 0.75 ? alice : bob;
      const key = `e${Math.floor(random() * 12)}/C`;
      // Some writes create (`_exists: true`); the others edit, and lose when the key is absent (D5).
      const created = random() < 0.4 ? { _exists: true } : {};
      const documentPatches: Patch[] =
        random() < 0.15
          ? [{ [key]: { _exists: false } }]
          : [{ [key]: { ...created, [pick(['x', 'y', 'z'])]: step } }];
      if (random() < 0.3)
        documentPatches.push({ [`e${Math.floor(random() * 12)}/D`]: { _exists: true, v: step, tag: 'w' } });
      const ephemeralPatches: Patch[] = [{ [`cursor/${author.clientId}`]: { _exists: true, x: step } }];
      const messageId = `${author.clientId}-${step}`;
      author.send({ type: 'patch', messageId, documentPatches, ephemeralPatches });
      const timestamp = model.applyFrame(documentPatches) as number;
      honestEphemeral[`cursor/${author.clientId}`] = { _exists: true, x: step };
      expectedAcks.get(author)?.push({ type: 'ack', messageId, timestamp });
    }

    // Honest clients got every ack, in order, and only each other's writes as broadcasts.
    for (const [client, acks] of expectedAcks) {
      expect(client.socket.ofType('ack')).toEqual(acks);
      const other = client === alice ? 'bob' : 'alice';
      const broadcasts = client.socket.ofType('patch');
      expect(broadcasts.map((m) => m.clientId).every((id) => id === other)).toBe(true);
      expect(broadcasts.length).toBe(expectedAcks.get(client === alice ? bob : alice)?.length);
      expect(client.socket.ofType('error')).toEqual([]);
      expect(client.socket.closed).toBeNull();
    }
    expect(model.clock).toBeGreaterThan(STEPS / 3);

    // The document is exactly what the honest writes produce, live and persisted.
    expect(room.getSnapshot()).toEqual(model.snapshot(false));
    await room.flush();
    expect(storage.last).toEqual(model.snapshot(true));

    // A newcomer's reconnect sees the honest document and the honest ephemeral state only.
    const newcomer = connect(room, { clientId: 'newcomer' });
    newcomer.socket.clear();
    newcomer.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    const [reply] = newcomer.socket.ofType('patch');
    const liveOrDeleted = Object.fromEntries(
      Object.entries(model.snapshot(true).state).map(([k, v]) => [
        k,
        v._exists === false ? { _exists: false } : v,
      ]),
    );
    expect(reply?.documentPatches).toEqual([liveOrDeleted]);
    expect(reply?.ephemeralPatches).toEqual([honestEphemeral]);

    // Nothing threw inside the room, and every bad frame got exactly its error, in order.
    expect(logger.errors).toEqual([]);
    expect(hostile.socket.closed).toBeNull();
    expect(hostile.socket.ofType('error').map((e) => e.code)).toEqual(expectedErrors);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
