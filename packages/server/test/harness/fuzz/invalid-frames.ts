/**
 * Invalid and blind fuzz frames: targeted invalid frames whose error code is
 * known, broken JSON, tree mutations of valid frames, binary frames and the
 * hostile-input catalogue.
 */
import { HOSTILE_CASES, MIXED_CASES } from '../../helpers/hostile-inputs.js';
import {
  blind,
  type Dice,
  FORBIDDEN,
  type FuzzFrame,
  ODD_NUMBERS,
  randomJson,
  randomString,
  setOwn,
} from './fuzz-basics.js';
import { nestedArrays, validFrame } from './valid-frames.js';

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
export function hostileFrame(d: Dice, id: () => string): FuzzFrame {
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
