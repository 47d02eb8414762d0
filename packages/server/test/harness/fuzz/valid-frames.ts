/**
 * Valid fuzz frames: patches the server must accept (and ack), including the
 * valid-but-odd ones that really change the fuzzed room.
 */
import { seededRandom } from '../../helpers/seeded-random.js';
import {
  Dice,
  EPHEMERAL_KEYS,
  FIELD_POOL,
  type FuzzFrame,
  KEY_POOL,
  ODD_NAMES,
  ODD_NUMBERS,
  randomString,
} from './fuzz-basics.js';

/** A valid field value: scalars, nested containers without forbidden names, up to `depth` levels. */
function validValue(d: Dice, depth: number): unknown {
  const roll = d.int(0, depth > 0 ? 9 : 5);
  if (roll === 0) return null;
  if (roll === 1) return d.chance(0.5);
  if (roll === 2) return d.pick(ODD_NUMBERS);
  if (roll === 3) return d.int(-1000, 1000);
  if (roll <= 5) return d.chance(0.8) ? randomString(d, 16) : d.pick(ODD_NAMES);
  if (roll <= 7) return Array.from({ length: d.int(0, 4) }, () => validValue(d, depth - 1));
  const out: Record<string, unknown> = {};
  for (let i = d.int(0, 4); i > 0; i--) {
    // `__buf` below the field level is ordinary data, never a delta.
    out[d.pick([...FIELD_POOL, '__buf', 'runs'])] = validValue(d, depth - 1);
  }
  return out;
}

/** A nested array exactly `depth` levels deep (depth 1 is `[v]`). */
export function nestedArrays(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** A well-formed buffer delta (SPEC D6) with runs inside `len`, sometimes overlapping or empty. */
function validDelta(d: Dice, maxLen = 500): Record<string, unknown> {
  const len = d.chance(0.1) ? 0 : d.int(1, maxLen);
  const runs: unknown[] = [];
  for (let r = d.int(0, 3); r > 0 && len > 0; r--) {
    const offset = d.int(0, len - 1);
    const count = d.int(0, Math.min(20, len - offset));
    runs.push([offset, Array.from({ length: count }, () => d.pick([0, 1, -1, 0.25, 255, 1e308, -0]))]);
  }
  return { __buf: 1, len, runs };
}

function validFieldValue(d: Dice): unknown {
  const roll = d.int(0, 19);
  if (roll === 0) return validDelta(d);
  if (roll === 1) return nestedArrays(d.int(1, 32), 'deep'); // depth 32 is the default maximum, still valid
  const value = validValue(d, 3);
  // An object with `__buf` at the field level is read as a buffer delta; keep that to validDelta.
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    delete (value as Record<string, unknown>).__buf;
  return value;
}

function validComponent(d: Dice): Record<string, unknown> {
  const component: Record<string, unknown> = {};
  const roll = d.int(0, 9);
  if (roll === 0) return { _exists: false };
  if (roll === 1) return {}; // a write with no fields
  if (roll <= 4) component._exists = true;
  for (let i = d.int(1, 4); i > 0; i--) {
    const field = d.pick(FIELD_POOL);
    // `_exists` must be a boolean (B2); every other field may hold anything valid.
    component[field] = field === '_exists' ? d.chance(0.8) : validFieldValue(d);
  }
  return component;
}

function validPatch(d: Dice, keys: readonly string[] = KEY_POOL): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (let i = d.int(1, 3); i > 0; i--) patch[d.pick(keys)] = validComponent(d);
  return patch;
}

function validPatches(d: Dice, keys?: readonly string[]): Record<string, unknown>[] {
  return Array.from({ length: d.int(1, 2) }, () => validPatch(d, keys));
}

/** A valid `patch` frame object (acked: it always holds at least one key). */
function validPatchObject(d: Dice, messageId: string): Record<string, unknown> {
  const frame: Record<string, unknown> = { type: 'patch', messageId };
  const roll = d.int(0, 9);
  if (roll <= 6) frame.documentPatches = validPatches(d);
  if (roll >= 5) frame.ephemeralPatches = [validPatch(d, EPHEMERAL_KEYS)];
  return frame;
}

export function valid(kind: string, frame: unknown, ackId?: string): FuzzFrame {
  const out: FuzzFrame = { kind, data: JSON.stringify(frame), binary: false, validity: 'valid' };
  if (ackId !== undefined) out.ackId = ackId;
  return out;
}

/** Valid writes used to fill the other rooms with a known document. */
export function fillFrames(seed: number, count: number): Record<string, unknown>[][] {
  const d = new Dice(seededRandom(seed));
  return Array.from({ length: count }, () => validPatches(d));
}

/** Stands for the room's latest known clock; the runner substitutes it when sending (cheap reconnect replies). */
export const LATEST = '__LATEST__';

/** Valid but unusual frames: every one is accepted, most change the fuzzed room. */
export function oddValid(d: Dice, id: () => string): FuzzFrame {
  const messageId = id();
  const text = (kind: string, data: string, ackId?: string): FuzzFrame => ({
    ...valid(kind, {}, ackId),
    data,
  });
  // Weights keep the heavy frames (a 200 KB key budget, full-document replies) rare.
  return d.weighted<() => FuzzFrame>([
    [
      1,
      // Number literals JSON.stringify never writes: 1e999 parses to Infinity, -1e-400 to -0.
      () =>
        text(
          'odd-number-literals',
          `{"type":"patch","messageId":"${messageId}","documentPatches":[{"e1/Pos":{"x":1e999,"y":-0,"w":1E+2,"h":-1e-400}}]}`,
          messageId,
        ),
    ],
    [
      1,
      // Duplicate names: JSON.parse keeps the last one.
      () =>
        text(
          'odd-duplicate-names',
          `{"type":"patch","messageId":"x","messageId":"${messageId}","documentPatches":[{"e2/Pos":{"x":1,"x":2}}]}`,
          messageId,
        ),
    ],
    [
      1,
      // No patches, or only empty ones: valid and not acked (A1).
      () =>
        valid('odd-empty-patches', {
          type: 'patch',
          messageId,
          ...(d.chance(0.5) ? { documentPatches: [{}, {}] } : {}),
          ...(d.chance(0.5) ? { ephemeralPatches: [] } : {}),
        }),
    ],
    [
      0.03,
      // The key budget at exactly its default maximum, all on one key.
      () =>
        valid(
          'odd-10000-patches-one-key',
          {
            type: 'patch',
            messageId,
            documentPatches: Array.from({ length: 10_000 }, (_, i) => ({ 'e3/Pos': { x: i } })),
          },
          messageId,
        ),
    ],
    [
      0.5,
      () =>
        valid(
          'odd-long-names',
          {
            type: 'patch',
            messageId: 'm'.repeat(256),
            documentPatches: [{ ['k'.repeat(512)]: { ['f'.repeat(512)]: 'v'.repeat(d.int(0, 2000)) } }],
          },
          'm'.repeat(256),
        ),
    ],
    [
      1,
      // Another protocol version: answered by version-mismatch, nothing of it applied.
      () =>
        valid('odd-reconnect-version', {
          type: 'reconnect',
          lastTimestamp: 0,
          protocolVersion: d.pick([0, 1, 3, -2, 2.5, 1e308, 2 ** 40]),
          documentPatches: validPatches(d),
        }),
    ],
    [
      0.1,
      // A clock ahead of the room's: a rollback heal (D8) with a whole-document reply.
      () =>
        valid('odd-reconnect-ahead', {
          type: 'reconnect',
          lastTimestamp: d.pick([1e9, Number.MAX_SAFE_INTEGER, 2 ** 40]),
          protocolVersion: 2,
        }),
    ],
    [
      1,
      () =>
        valid('odd-reconnect-with-patches', {
          type: 'reconnect',
          lastTimestamp: LATEST,
          protocolVersion: 2,
          documentPatches: validPatches(d),
          ephemeralPatches: [validPatch(d, EPHEMERAL_KEYS)],
        }),
    ],
    [1, () => valid('odd-auth-refresh', { type: 'auth-refresh', token: randomString(d, 40) || 't' })],
    [0.3, () => valid('odd-auth-refresh-long-token', { type: 'auth-refresh', token: 'T'.repeat(16_384) })],
    [
      1,
      // Unknown top-level fields are ignored, even one named __proto__.
      () =>
        text(
          'odd-extra-fields',
          `{"type":"patch","messageId":"${messageId}","extra":[1,{"a":null}],"__proto__":{"isAdmin":true},"documentPatches":[{"e4/Pos":{"x":4}}]}`,
          messageId,
        ),
    ],
    [
      1,
      // A valid patch sent as a binary WebSocket message: the server reads it as UTF-8 text.
      () => ({ ...valid('odd-binary-valid', validPatchObject(d, messageId), messageId), binary: true }),
    ],
    [
      1,
      () =>
        valid(
          'odd-ephemeral-only',
          { type: 'patch', messageId, ephemeralPatches: [validPatch(d, EPHEMERAL_KEYS)] },
          messageId,
        ),
    ],
    [
      1,
      () =>
        valid(
          'odd-empty-message-id',
          { type: 'patch', messageId: '', documentPatches: [{ 'e5/Pos': { x: d.int(0, 9) } }] },
          '',
        ),
    ],
    [
      1,
      () =>
        valid(
          'odd-values',
          {
            type: 'patch',
            messageId,
            documentPatches: [
              {
                'e6/Text': {
                  text: '\u0000\ud800\udfff\ud800 "quoted" \\ back',
                  big: Number.MAX_VALUE,
                  neg: -Number.MIN_VALUE,
                  // 31 arrays and an object: exactly the default maximum depth of 32.
                  deep: nestedArrays(31, { a: 1 }),
                },
              },
            ],
          },
          messageId,
        ),
    ],
    [
      1,
      () =>
        valid(
          'odd-buffer-sequence',
          {
            type: 'patch',
            messageId,
            documentPatches: [
              { 'e7/Stroke': { points: validDelta(d) } },
              { 'e7/Stroke': { points: validDelta(d, 50) } },
            ],
          },
          messageId,
        ),
    ],
  ])();
}

/** A frame that must be accepted: mostly ordinary writes, some odd ones. */
export function validFrame(d: Dice, id: () => string): FuzzFrame {
  if (d.chance(0.35)) return oddValid(d, id);
  const messageId = id();
  return valid('valid-patch', validPatchObject(d, messageId), messageId);
}
