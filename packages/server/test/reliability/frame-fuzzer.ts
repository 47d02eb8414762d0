/**
 * Seeded frame generators for the process fuzz suite (fuzz-process.test.ts):
 * random JSON of every shape, random strings and bytes, syntactically broken
 * JSON, tree mutations of valid frames, targeted invalid frames whose error
 * code is known, the hostile-input catalogue, and valid-but-odd frames that
 * really change the fuzzed room. {@link planSession} turns `(seed, index)` into
 * one fuzz session's script, so any failing session can be replayed from its
 * seed and index alone.
 *
 * Every frame carries what the generator knows about it: `valid` (the server
 * must accept it; `ackId` when it must be acked), `invalid` (it must be
 * answered by an `error` frame, with `expectedCode` when that is certain) or
 * `unknown` (a blind mutation: either outcome is fine, but it may cost an
 * invalid-frame credit).
 */
import { HOSTILE_CASES, MIXED_CASES } from '../helpers/hostile-inputs.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** Small helpers over one PRNG stream. */
export class Dice {
  constructor(readonly next: () => number) {}

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks from `[weight, value]` pairs. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    const total = table.reduce((sum, [w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [w, value] of table) {
      roll -= w;
      if (roll < 0) return value;
    }
    return (table[table.length - 1] as readonly [number, T])[1];
  }
}

export type Validity = 'valid' | 'invalid' | 'unknown';

/** One frame of a fuzz session. */
export interface FuzzFrame {
  /** Which generator made it (for the figures and failure messages). */
  kind: string;
  /** Text frames are strings; `binary` frames and raw-byte text frames are Buffers. */
  data: string | Buffer;
  binary: boolean;
  validity: Validity;
  /** The `error` code the server must answer with, when the generator is certain of it. */
  expectedCode?: string;
  /** The `messageId` whose `ack` must arrive (valid patch frames holding a non-empty patch). */
  ackId?: string;
}

/** The error codes of protocol/frame-error.ts (the documented B3 vocabulary). */
export const FRAME_ERROR_CODES: ReadonlySet<string> = new Set([
  'frame-too-large',
  'invalid-json',
  'not-an-object',
  'unknown-type',
  'invalid-field',
  'invalid-patch',
  'invalid-component',
  'forbidden-name',
  'too-many-keys',
  'too-many-fields',
  'key-too-long',
  'too-deep',
  'invalid-buffer-delta',
  'buffer-too-long',
  'rate-limited',
  'auth-refresh-unsupported',
]);

export const FORBIDDEN = ['__proto__', 'constructor', 'prototype'] as const;

/** The key bystanders write; no fuzz frame ever produces a key starting with it. */
export const BYSTANDER_PREFIX = 'bystander';

// Names that are legal but trip code built on ordinary objects (inherited
// members), numeric-looking names that reorder object keys, unicode, and the
// 512-character maximum.
const ODD_NAMES = [
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupSetter__',
  'Constructor',
  '__PROTO__',
  'prototype ',
  '__buf',
  'len',
  'runs',
  '_version',
  '',
  ' ',
  '0',
  '1',
  '-1',
  '4294967295',
  'null',
  'undefined',
  'a/b/c',
  'ключ',
  '🎨🖌️',
  'e\u0301',
  '\uFFFF',
  'x'.repeat(512),
];

/** A bounded pool, so the fuzzed document stays small while keys are rewritten over and over. */
const KEY_POOL: readonly string[] = [
  ...Array.from({ length: 12 }, (_, i) => `e${i}/${['Pos', 'Shape', 'Style'][i % 3]}`),
  'SINGLETON/Camera',
  ...ODD_NAMES.map((name, i) => (i % 2 === 0 ? name : `${name}/Comp`)),
];
const FIELD_POOL: readonly string[] = ['x', 'y', 'w', 'h', 'color', 'points', 'text', 'nested', ...ODD_NAMES];
const EPHEMERAL_KEYS: readonly string[] = ['cursor/me', 'selection/me', 'toString', ''];

/** Numbers that stress encoders: extremes, -0, subnormals, beyond-safe integers. */
const ODD_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53,
  2 ** 31,
  -(2 ** 31),
  123456789.12345679,
];

const WORDS = ['patch', 'reconnect', 'auth-refresh', 'ack', 'synced', 'error', 'documentPatches', '_exists'];

/** A random string: ASCII, JSON syntax, unicode, controls, escapes, lone surrogates, names. */
export function randomString(d: Dice, maxLength = 24): string {
  const mode = d.int(0, 7);
  if (mode === 0) return d.pick([...FORBIDDEN, ...ODD_NAMES, ...WORDS]);
  if (mode === 1) return d.pick(['a', '\u0000', '"', '\\', '{', '%']).repeat(d.int(1, 600));
  const length = d.int(0, maxLength);
  let out = '';
  for (let i = 0; i < length; i++) {
    const kind = d.int(0, 9);
    if (kind <= 3) out += String.fromCharCode(d.int(0x20, 0x7e));
    else if (kind === 4) out += d.pick(['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', 'ÿ']);
    else if (kind === 5) out += String.fromCharCode(d.int(0, 0x1f));
    else if (kind === 6)
      out += String.fromCharCode(d.int(0xd800, 0xdfff)); // lone surrogates
    else if (kind === 7) out += String.fromCodePoint(d.int(0x1f300, 0x1faff));
    else out += String.fromCharCode(d.int(0xa0, 0xfffd));
  }
  return out;
}

/** Sets an own enumerable property, even `__proto__` (which plain assignment would treat as the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A random JSON value of any shape, names included forbidden ones. */
export function randomJson(d: Dice, depth = 4): unknown {
  const roll = d.int(0, depth > 0 ? 9 : 5);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return d.chance(0.5);
    case 2:
      return d.pick(ODD_NUMBERS);
    case 3:
      return (d.next() - 0.5) * 10 ** d.int(0, 20);
    case 4:
    case 5:
      return randomString(d);
    case 6:
    case 7:
      return Array.from({ length: d.int(0, 5) }, () => randomJson(d, depth - 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = d.int(0, 5); i > 0; i--) {
        const name = d.chance(0.3)
          ? d.pick([...FORBIDDEN, 'type', 'messageId', ...WORDS])
          : randomString(d, 8);
        setOwn(out, name, randomJson(d, depth - 1));
      }
      return out;
    }
  }
}

/**
 * True when `text` is certainly not a frame the server accepts: not JSON, not
 * an object, or of an unknown `type`. Anything else is left to the server.
 */
export function surelyInvalid(text: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return true;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return true;
  const type = (parsed as Record<string, unknown>).type;
  return type !== 'patch' && type !== 'reconnect' && type !== 'auth-refresh';
}

/** Classifies a blind frame as the server will decode it (a Buffer is read as UTF-8, as the server does). */
function blind(kind: string, data: string | Buffer, binary = false): FuzzFrame {
  const text = typeof data === 'string' ? Buffer.from(data).toString('utf8') : data.toString('utf8');
  return { kind, data, binary, validity: surelyInvalid(text) ? 'invalid' : 'unknown' };
}

// ---------------------------------------------------------------------------
// Valid frames

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
function nestedArrays(depth: number, leaf: unknown = 1): unknown {
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

function valid(kind: string, frame: unknown, ackId?: string): FuzzFrame {
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
function oddValid(d: Dice, id: () => string): FuzzFrame {
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
function validFrame(d: Dice, id: () => string): FuzzFrame {
  if (d.chance(0.35)) return oddValid(d, id);
  const messageId = id();
  return valid('valid-patch', validPatchObject(d, messageId), messageId);
}

// ---------------------------------------------------------------------------
// Invalid and blind frames

const deepArrayText = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const deepObjectText = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** A malformed buffer delta and the code it must produce. */
function badDelta(d: Dice): { value: string; code: string } {
  const bad = d.pick([
    '{"__buf":1,"len":-1,"runs":[]}',
    '{"__buf":1,"len":2.5,"runs":[]}',
    '{"__buf":1,"len":"4","runs":[]}',
    '{"__buf":1,"runs":[]}',
    '{"__buf":1,"len":4}',
    '{"__buf":1,"len":4,"runs":{"0":[0,[1]]}}',
    '{"__buf":1,"len":4,"runs":[[3,[1,2]]]}',
    '{"__buf":1,"len":4,"runs":[[9,[]]]}',
    '{"__buf":1,"len":4,"runs":[[-1,[1]]]}',
    '{"__buf":1,"len":4,"runs":[[1.5,[1]]]}',
    '{"__buf":1,"len":4,"runs":[[0,[1,"2"]]]}',
    '{"__buf":1,"len":4,"runs":[[0,[null]]]}',
    '{"__buf":1,"len":4,"runs":[[0,[[1]]]]}',
    '{"__buf":1,"len":4,"runs":[[0]]}',
    '{"__buf":1,"len":4,"runs":[[0,[1],2]]}',
    '{"__buf":1,"len":4,"runs":[[0,1]]}',
    '{"__buf":1,"len":4,"runs":[],"x":1}',
    '{"__buf":1,"len":4,"runs":[],"__proto__":{"len":1}}',
    '{"__buf":2,"len":4,"runs":[]}',
    '{"__buf":"1","len":4,"runs":[]}',
    '{"__buf":null,"len":4,"runs":[]}',
    '{"__buf":1,"len":1e999,"runs":[]}',
  ]);
  const tooLong = d.pick([
    '{"__buf":1,"len":100001,"runs":[]}',
    '{"__buf":1,"len":1000000000000,"runs":[[999999999999,[1]]]}',
    `{"__buf":1,"len":${Number.MAX_SAFE_INTEGER},"runs":[]}`,
  ]);
  return d.chance(0.8)
    ? { value: bad, code: 'invalid-buffer-delta' }
    : { value: tooLong, code: 'buffer-too-long' };
}

/** JSON text of a nested value holding `name` as an object key somewhere below the field level. */
function hiddenName(d: Dice, name: string): string {
  let inner = `{${JSON.stringify(name)}:{"polluted":true}}`;
  for (let i = d.int(0, 20); i > 0; i--) inner = d.chance(0.5) ? `[1,${inner}]` : `{"k${i}":${inner}}`;
  return inner;
}

/** One targeted invalidity in an otherwise valid frame, with the error code it must get. */
function targetedInvalid(d: Dice, id: () => string): FuzzFrame {
  const m = id();
  const doc = (patches: string) => `{"type":"patch","messageId":"${m}","documentPatches":${patches}}`;
  const eph = (patches: string) => `{"type":"patch","messageId":"${m}","ephemeralPatches":${patches}}`;
  const rec = (patches: string) =>
    `{"type":"reconnect","lastTimestamp":0,"protocolVersion":2,"documentPatches":${patches}}`;
  const field = (value: string) => doc(`[{"e1/Pos":{"x":1,"v":${value}}}]`);
  const make = (kind: string, data: string, code: string): FuzzFrame => ({
    kind,
    data,
    binary: false,
    validity: 'invalid',
    expectedCode: code,
  });
  const name = d.pick(FORBIDDEN);
  const wrap = d.pick([doc, eph, rec]);
  switch (d.int(0, 13)) {
    case 0:
      return make(
        'bad-forbidden-key',
        wrap(`[{"e1/Pos":{"x":1}},{${JSON.stringify(name)}:{"x":1}}]`),
        'forbidden-name',
      );
    case 1:
      return make(
        'bad-forbidden-field',
        wrap(`[{"e1/Pos":{"x":1,${JSON.stringify(name)}:{"x":1}}}]`),
        'forbidden-name',
      );
    case 2:
      return make('bad-forbidden-nested', field(hiddenName(d, name)), 'forbidden-name');
    case 3:
      return make(
        'bad-unstorable-name',
        wrap(d.pick(['[{"e1/\\u0000":{"x":1}}]', '[{"e1/Pos":{"\\ud800":1}}]', '[{"\\udfff/Pos":{"x":1}}]'])),
        'forbidden-name',
      );
    case 4: {
      const depth = d.int(33, 3000);
      return make(
        'bad-too-deep',
        field(d.chance(0.5) ? deepArrayText(depth) : deepObjectText(depth)),
        'too-deep',
      );
    }
    case 5: {
      // 10,001 keys in one patch or spread over two: the budget is per frame.
      const keys = Array.from({ length: 10_001 }, (_, i) => `"k${i}/C":{}`);
      const split = d.chance(0.5) ? keys.length : d.int(1, keys.length - 1);
      const patches = [keys.slice(0, split), keys.slice(split)].filter((part) => part.length > 0);
      return make(
        'bad-too-many-keys',
        doc(`[${patches.map((part) => `{${part.join(',')}}`).join(',')}]`),
        'too-many-keys',
      );
    }
    case 6: {
      const fields = Array.from({ length: 1001 }, (_, i) => `"f${i}":${i}`).join(',');
      return make('bad-too-many-fields', doc(`[{"e1/Pos":{${fields}}}]`), 'too-many-fields');
    }
    case 7:
      return make(
        'bad-long-name',
        d.chance(0.5)
          ? doc(`[{"${'k'.repeat(513)}":{"x":1}}]`)
          : doc(`[{"e1/Pos":{"${'f'.repeat(513)}":1}}]`),
        'key-too-long',
      );
    case 8: {
      const delta = badDelta(d);
      return make('bad-buffer-delta', field(delta.value), delta.code);
    }
    case 9:
      return make(
        'bad-component',
        wrap(
          d.pick([
            '[{"e1/Pos":null}]',
            '[{"e1/Pos":[1]}]',
            '[{"e1/Pos":"x"}]',
            '[{"e1/Pos":{"_exists":"false"}}]',
            '[{"e1/Pos":{"_exists":0}}]',
            '[{"e1/Pos":{"_exists":{"__buf":1,"len":0,"runs":[]}}}]',
          ]),
        ),
        'invalid-component',
      );
    case 10:
      return make(
        'bad-patch',
        wrap(d.pick(['[null]', '[5]', '["e1/Pos"]', '[[]]', '[{"e1/Pos":{"x":1}},true]'])),
        'invalid-patch',
      );
    case 11:
      return make(
        'bad-envelope-field',
        d.pick([
          `{"type":"patch","messageId":${d.pick(['5', 'null', '{}', '[]', 'true', `"${'m'.repeat(257)}"`])},"documentPatches":[{"e1/Pos":{"x":1}}]}`,
          '{"type":"patch","documentPatches":[{"e1/Pos":{"x":1}}]}',
          `{"type":"patch","messageId":"${m}","documentPatches":${d.pick(['{}', '"x"', '5', 'null', 'true'])}}`,
          `{"type":"reconnect","lastTimestamp":${d.pick(['-1', '0.5', '"0"', 'null', '1e999', '9007199254740992', '[]'])},"protocolVersion":2}`,
          `{"type":"reconnect","lastTimestamp":0,"protocolVersion":${d.pick(['"2"', 'null', '[2]', '{}', '1e999', '-1e999'])}}`,
          '{"type":"reconnect","protocolVersion":2}',
          `{"type":"auth-refresh","token":${d.pick(['""', '5', 'null', '["t"]', `"${'t'.repeat(16_385)}"`])}}`,
          '{"type":"auth-refresh"}',
        ]),
        'invalid-field',
      );
    case 12:
      return make(
        'bad-type',
        `{"type":${d.pick(['"PATCH"', '"ack"', '"synced"', '"patch "', '""', 'null', '1', '["patch"]', '{"patch":1}', `"${'p'.repeat(5000)}"`])},"messageId":"${m}","documentPatches":[{"e1/Pos":{"x":1}}]}`,
        'unknown-type',
      );
    default:
      return d.chance(0.5)
        ? make(
            'bad-not-object',
            d.pick(['42', '"patch"', 'null', 'true', '[]', `[${doc('[]')}]`, '-0', '1e999']),
            'not-an-object',
          )
        : make(
            'bad-json',
            d.pick([
              '',
              ' ',
              'x',
              '{',
              '}',
              '{"type":"patch"',
              "{'type':'patch'}",
              '{"type":"patch",}',
              '{"a":NaN}',
              '{"a":Infinity}',
              '{"a":undefined}',
              '\uFEFF{}',
              '{"a":1}}',
              '{"a":01}',
              '{"a":.5}',
              '{"a":0x10}',
            ]),
            'invalid-json',
          );
  }
}

/** Text-level damage to a valid frame: truncation, deletions, insertions, bad literals, garbage. */
function brokenJson(d: Dice, id: () => string): FuzzFrame {
  let text = String(validFrame(d, id).data);
  for (let n = d.int(1, 3); n > 0; n--) {
    const at = d.int(0, text.length);
    switch (d.int(0, 6)) {
      case 0:
        text = text.slice(0, at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + d.int(1, 8));
        break;
      case 2:
        text =
          text.slice(0, at) +
          d.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', 'NaN', ' ']) +
          text.slice(at);
        break;
      case 3:
        text = text.replace(
          /-?\d+(\.\d+)?/,
          d.pick(['NaN', 'Infinity', '-Infinity', 'undefined', '0x1F', '01', '.5', '+1', '1e999', '--1']),
        );
        break;
      case 4:
        text += d.pick([' x', '}', ']', '{}', '\n\n', ',']);
        break;
      case 5:
        text = text.replace(/true|false|null/, d.pick(['True', 'FALSE', 'nul', 'None']));
        break;
      default:
        text = text.slice(at) + text.slice(0, at);
    }
  }
  return blind('broken-json', text);
}

/** Every container (object or array) of a parsed tree, for picking a mutation site. */
function containers(root: unknown): Array<Record<string, unknown> | unknown[]> {
  const out: Array<Record<string, unknown> | unknown[]> = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    out.push(value as Record<string, unknown> | unknown[]);
    for (const child of Object.values(value)) stack.push(child);
  }
  return out;
}

/** A value that replaces a field in a mutation: another type, an extreme, a structure. */
function retype(d: Dice): unknown {
  return d.weighted<() => unknown>([
    [4, () => randomJson(d, 2)],
    [2, () => d.pick(ODD_NUMBERS) * d.pick([1, -1])],
    [1, () => nestedArrays(d.int(20, 60))],
    [1, () => JSON.parse(badDelta(d).value) as unknown],
    [1, () => ({ [d.pick(FORBIDDEN)]: 1 })],
    [1, () => d.pick(['patch', 'reconnect', 'auth-refresh', 'NaN', ''])],
  ])();
}

/** 1-3 blind tree mutations of a valid frame: dropped, renamed, retyped, added or moved fields. */
function mutatedFrame(d: Dice, id: () => string): FuzzFrame {
  const base = validFrame(d, id);
  const root = JSON.parse(String(base.data)) as Record<string, unknown>;
  for (let n = d.int(1, 3); n > 0; n--) {
    const site = d.pick(containers(root));
    if (Array.isArray(site)) {
      const at = d.int(0, site.length);
      const op = d.int(0, 3);
      if (op === 0 && site.length > 0) site.splice(Math.min(at, site.length - 1), 1);
      else if (op === 1) site.splice(at, 0, retype(d));
      else if (op === 2 && site.length > 0) site[Math.min(at, site.length - 1)] = retype(d);
      else site.push(JSON.parse(JSON.stringify(site)) as unknown);
      continue;
    }
    const names = Object.keys(site);
    const name = names.length > 0 ? d.pick(names) : undefined;
    const op = d.int(0, 4);
    if (op === 0 && name !== undefined) {
      delete site[name];
    } else if (op === 1 && name !== undefined) {
      const value = site[name];
      delete site[name];
      const renamed = d.pick([
        ...FORBIDDEN,
        name.toUpperCase(),
        `${name} `,
        `_${name}`,
        randomString(d, 6),
        'type',
      ]);
      setOwn(site, renamed, value);
    } else if (op === 2 && name !== undefined) {
      setOwn(site, name, retype(d));
    } else if (op === 3) {
      setOwn(
        site,
        d.pick([...FORBIDDEN, 'type', 'messageId', '_exists', '__buf', randomString(d, 6)]),
        retype(d),
      );
    } else {
      // `type` swapped for another known type: right shape, wrong frame.
      root.type = d.pick(['patch', 'reconnect', 'auth-refresh', 'Patch', 'ack']);
    }
  }
  return blind('mutated-frame', JSON.stringify(root));
}

/** A frame from the hostile-input catalogue (test/helpers/hostile-inputs.ts) with its known code. */
function catalogue(d: Dice): FuzzFrame {
  const entry = d.pick([...HOSTILE_CASES, ...MIXED_CASES]);
  return { kind: 'catalogue', data: entry.raw, binary: false, validity: 'invalid', expectedCode: entry.code };
}

/** Bytes: random, valid JSON with invalid UTF-8 spliced in, or random text; sent as a binary message. */
function binaryFrame(d: Dice, id: () => string): FuzzFrame {
  if (d.chance(0.5)) {
    const bytes = Buffer.alloc(d.int(0, 300));
    for (let i = 0; i < bytes.length; i++) bytes[i] = d.int(0, 255);
    return blind('binary-random', bytes, true);
  }
  const text = Buffer.from(String(validFrame(d, id).data));
  const at = d.int(0, text.length);
  const spliced = Buffer.concat([
    text.subarray(0, at),
    Buffer.from(d.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88]])),
    text.subarray(at),
  ]);
  return blind('binary-bad-utf8', spliced, true);
}

/** A frame that may well be invalid (each costs one of the session's invalid-frame credits). */
function hostileFrame(d: Dice, id: () => string): FuzzFrame {
  return d.weighted<() => FuzzFrame>([
    [3, () => blind('random-json', JSON.stringify(randomJson(d)) ?? 'null')],
    [2, () => blind('random-frame-shape', JSON.stringify(randomFrameShape(d)))],
    [2, () => blind('random-string', randomString(d, 200))],
    [2, () => binaryFrame(d, id)],
    [3, () => brokenJson(d, id)],
    [4, () => mutatedFrame(d, id)],
    [5, () => targetedInvalid(d, id)],
    [2, () => catalogue(d)],
  ])();
}

/** An object shaped like a frame, with random values for its fields. */
function randomFrameShape(d: Dice): Record<string, unknown> {
  const frame: Record<string, unknown> = {
    type: d.pick(['patch', 'reconnect', 'auth-refresh', randomString(d, 8)]),
  };
  for (const name of [
    'messageId',
    'documentPatches',
    'ephemeralPatches',
    'lastTimestamp',
    'protocolVersion',
    'token',
  ]) {
    if (d.chance(0.5)) setOwn(frame, name, randomJson(d, 3));
  }
  return frame;
}

// ---------------------------------------------------------------------------
// Sessions

/**
 * How a session ends. `marker`: an acked end-marker write, then a normal close.
 * The others send the marker too, then provoke a documented close:
 * `invalid-flood` (4406), `oversized` (1009), `bad-utf8` (1007),
 * `raw-garbage` (WebSocket protocol error, 1002), `rate-flood` and
 * `byte-flood` (4429). `vanish` pipelines its frames and drops the TCP
 * connection without waiting for anything.
 */
export type Ending =
  | 'marker'
  | 'invalid-flood'
  | 'oversized'
  | 'bad-utf8'
  | 'raw-garbage'
  | 'rate-flood'
  | 'byte-flood'
  | 'vanish';

/** The close code each provoking ending must get (what the client observes). */
export const EXPECTED_CLOSE: Record<Exclude<Ending, 'marker' | 'vanish'>, readonly number[]> = {
  'invalid-flood': [4406],
  oversized: [1009],
  'bad-utf8': [1007],
  'raw-garbage': [1002],
  'rate-flood': [4429],
  'byte-flood': [4429],
};

/** One fuzz session's script. */
export interface SessionPlan {
  index: number;
  roomId: string;
  clientId: string;
  /** Wait for the session to be ready (its `clientCount`) before sending; otherwise frames queue before ready (C3). */
  waitReady: boolean;
  frames: FuzzFrame[];
  ending: Ending;
  /** Raw bytes written on the TCP socket for `raw-garbage` (first byte sets RSV2: always a protocol error). */
  garbage: Buffer;
}

/** At most this many frames per session may be invalid: the server's default `maxInvalidFramesPerMinute`. */
export const INVALID_CREDITS = 10;

/**
 * The script of session `index` under `seed`: up to {@link INVALID_CREDITS}
 * hostile frames mixed into valid ones (so a session that ends with its marker
 * must never be closed), in one of the fuzzed rooms or, now and then, a fresh one.
 */
export function planSession(seed: number, index: number, fuzzedRooms: readonly string[]): SessionPlan {
  const d = new Dice(seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0));
  let next = 0;
  const id = () => `s${index}-m${next++}`;
  const roomId = d.chance(0.04) ? `fuzz-fresh-${index}` : d.pick(fuzzedRooms);
  const frames: FuzzFrame[] = [];
  // The published client's first frame: sometimes a proper reconnect, sometimes nothing or a strange one.
  const opening = d.int(0, 5);
  if (opening <= 2)
    frames.push(valid('reconnect', { type: 'reconnect', lastTimestamp: LATEST, protocolVersion: 2 }));
  else if (opening === 3) frames.push(oddValid(d, id));
  let credits = INVALID_CREDITS;
  let bytes = 0;
  for (let n = d.int(8, 60); n > 0; n--) {
    const frame = credits > 0 && d.chance(0.35) ? hostileFrame(d, id) : validFrame(d, id);
    const size = typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length;
    // Keep under the 8 MiB a not-yet-ready connection may hold, and the 16 MiB byte burst.
    if (bytes + size > 6 * 1024 * 1024) continue;
    bytes += size;
    if (frame.validity !== 'valid') credits--;
    frames.push(frame);
  }
  const ending = d.weighted<Ending>([
    [80, 'marker'],
    [5, 'invalid-flood'],
    [1.5, 'oversized'],
    [3, 'bad-utf8'],
    [3, 'raw-garbage'],
    [1.5, 'rate-flood'],
    [0.3, 'byte-flood'],
    [5, 'vanish'],
  ]);
  const garbage = Buffer.alloc(d.int(2, 64));
  for (let i = 0; i < garbage.length; i++) garbage[i] = d.int(0, 255);
  garbage[0] = ((garbage[0] as number) | 0x20) & 0xef; // RSV2 set: "RSV2 and RSV3 must be clear"
  return {
    index,
    roomId,
    clientId: d.chance(0.1)
      ? d.pick(['fuzzer', 'toString', '__proto__', 'constructor', '🎨'])
      : `fuzzer-${index}`,
    waitReady: ending === 'rate-flood' || ending === 'byte-flood' || d.chance(0.5),
    frames,
    ending,
    garbage,
  };
}
