import { expect } from 'vitest';
import type { FrameErrorCode, Logger, Room, RoomOptions, RoomSnapshot, Storage } from '../../src/index.js';
import { connect, createRoom, type FakeClient } from './room-harness.js';

/** One hostile frame, as raw text, and the stable error code it must be answered with. */
interface HostileCase {
  name: string;
  raw: string;
  code: FrameErrorCode;
}

/** A Storage that records a deep copy of every saved snapshot. */
export class RecordingStorage implements Storage {
  readonly saved: RoomSnapshot[] = [];

  async load(): Promise<RoomSnapshot | null> {
    return null;
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    this.saved.push(structuredClone(snapshot));
  }

  /** The persisted form: the last saved snapshot. */
  get last(): RoomSnapshot | undefined {
    return this.saved[this.saved.length - 1];
  }
}

/** A logger that keeps every warning and error, so "caught and logged" crashes are visible to tests. */
export function recordingLogger(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    debug: () => {},
    info: () => {},
    warn: (_context, message) => warnings.push(message),
    error: (_context, message) => errors.push(message),
  };
}

export const DEEP = 100_000;
/** A JSON array nested `depth` levels deep. */
export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** A JSON object nested `depth` levels deep. */
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** A `patch` frame with the given raw `documentPatches` JSON. */
export const docFrame = (patches: string): string =>
  `{"type":"patch","messageId":"h1","documentPatches":${patches}}`;
/** A `patch` frame with the given raw `ephemeralPatches` JSON. */
const ephFrame = (patches: string): string =>
  `{"type":"patch","messageId":"h1","ephemeralPatches":${patches}}`;
/** A `reconnect` frame with the given raw `documentPatches` JSON. */
const reconnectFrame = (patches: string): string =>
  `{"type":"reconnect","lastTimestamp":0,"protocolVersion":2,"documentPatches":${patches}}`;
/** A `patch` frame writing the raw JSON `value` into field `x` of the seeded key `e1/Pos`. */
export const fieldFrame = (value: string): string => docFrame(`[{"e1/Pos":{"x":${value}}}]`);
const buf = (body: string): string => fieldFrame(`{"__buf":1,${body}}`);

const cases = (code: FrameErrorCode, list: Array<[string, string]>): HostileCase[] =>
  list.map(([name, raw]) => ({ name, raw, code }));

/** Every hostile input of SPEC B2, grouped by the error code it must produce. */
export const HOSTILE_CASES: HostileCase[] = [
  ...cases('invalid-json', [
    ['plain text', 'not json at all'],
    ['empty message', ''],
    ['truncated object', '{"type":"patch","messageId":"h1"'],
    ['single quotes', "{'type':'patch','messageId':'h1'}"],
    ['NaN literal', '{"type":"reconnect","lastTimestamp":NaN,"protocolVersion":2}'],
    ['trailing garbage', '{"type":"patch","messageId":"h1"} x'],
  ]),
  ...cases('not-an-object', [
    ['a number', '42'],
    ['a string', '"patch"'],
    ['null', 'null'],
    ['true', 'true'],
    ['an empty array', '[]'],
    ['an array holding a valid frame', `[${docFrame('[{"e1/Pos":{"x":9}}]')}]`],
  ]),
  ...cases('unknown-type', [
    ['an unknown type', '{"type":"nope","messageId":"h1"}'],
    ['a missing type', '{"messageId":"h1","documentPatches":[{"e1/Pos":{"x":9}}]}'],
    ['a server-only type', '{"type":"ack","messageId":"h1","timestamp":99}'],
    ['a type in other case', '{"type":"PATCH","messageId":"h1","documentPatches":[{"e1/Pos":{"x":9}}]}'],
    ['a null type', '{"type":null}'],
    ['a numeric type', '{"type":1}'],
    ['an array type', '{"type":["patch"],"messageId":"h1"}'],
    ['an object type', '{"type":{"patch":true},"messageId":"h1"}'],
    [
      'a type inherited through __proto__',
      '{"__proto__":{"type":"patch"},"messageId":"h1","documentPatches":[{"e1/Pos":{"x":9}}]}',
    ],
  ]),
  ...cases('invalid-field', [
    ['messageId a number', '{"type":"patch","messageId":5,"documentPatches":[{"e1/Pos":{"x":9}}]}'],
    ['messageId missing', '{"type":"patch","documentPatches":[{"e1/Pos":{"x":9}}]}'],
    ['messageId null', '{"type":"patch","messageId":null,"documentPatches":[{"e1/Pos":{"x":9}}]}'],
    ['messageId an object', '{"type":"patch","messageId":{"a":1},"documentPatches":[{"e1/Pos":{"x":9}}]}'],
    [
      'messageId too long',
      `{"type":"patch","messageId":"${'m'.repeat(257)}","documentPatches":[{"e1/Pos":{"x":9}}]}`,
    ],
    ['lastTimestamp a string', '{"type":"reconnect","lastTimestamp":"0","protocolVersion":2}'],
    ['lastTimestamp negative', '{"type":"reconnect","lastTimestamp":-1,"protocolVersion":2}'],
    ['lastTimestamp fractional', '{"type":"reconnect","lastTimestamp":0.5,"protocolVersion":2}'],
    ['lastTimestamp infinite', '{"type":"reconnect","lastTimestamp":1e999,"protocolVersion":2}'],
    ['lastTimestamp missing', '{"type":"reconnect","protocolVersion":2}'],
    ['protocolVersion a string', '{"type":"reconnect","lastTimestamp":0,"protocolVersion":"2"}'],
    ['protocolVersion missing', '{"type":"reconnect","lastTimestamp":0}'],
    ['protocolVersion null', '{"type":"reconnect","lastTimestamp":0,"protocolVersion":null}'],
    ['documentPatches an object', docFrame('{"e1/Pos":{"x":9}}')],
    ['documentPatches a string', docFrame('"e1/Pos"')],
    ['documentPatches a number', docFrame('5')],
    ['documentPatches null', docFrame('null')],
    ['ephemeralPatches an object', ephFrame('{"cursor/h":{"x":9}}')],
    ['ephemeralPatches true', ephFrame('true')],
    ['reconnect documentPatches an object', reconnectFrame('{"e1/Pos":{"x":9}}')],
    ['token empty', '{"type":"auth-refresh","token":""}'],
    ['token a number', '{"type":"auth-refresh","token":5}'],
    ['token missing', '{"type":"auth-refresh"}'],
    ['token too long', `{"type":"auth-refresh","token":"${'t'.repeat(16_385)}"}`],
  ]),
  ...cases('invalid-patch', [
    ['documentPatches [null]', docFrame('[null]')],
    ['documentPatches [5]', docFrame('[5]')],
    ['documentPatches ["s"]', docFrame('["e1/Pos"]')],
    ['documentPatches [[]]', docFrame('[[]]')],
    ['documentPatches [true]', docFrame('[true]')],
    ['documentPatches [[patch]]', docFrame('[[{"e1/Pos":{"x":9}}]]')],
    ['ephemeralPatches [null]', ephFrame('[null]')],
    ['ephemeralPatches [5]', ephFrame('[5]')],
    ['ephemeralPatches [[]]', ephFrame('[[]]')],
    ['reconnect documentPatches [null]', reconnectFrame('[null]')],
  ]),
  ...cases('invalid-component', [
    ['component null', docFrame('[{"e1/Pos":null}]')],
    ['component a number', docFrame('[{"e1/Pos":5}]')],
    ['component an array', docFrame('[{"e1/Pos":[]}]')],
    ['component an array of fields', docFrame('[{"e1/Pos":[{"x":9}]}]')],
    ['component a string', docFrame('[{"e1/Pos":"x"}]')],
    ['component true', docFrame('[{"e1/Pos":true}]')],
    ['ephemeral component null', ephFrame('[{"cursor/h":null}]')],
    ['ephemeral component a number', ephFrame('[{"cursor/h":5}]')],
    ['ephemeral component an array', ephFrame('[{"cursor/h":[]}]')],
    ['reconnect component null', reconnectFrame('[{"e1/Pos":null}]')],
    ['_exists the string "false"', docFrame('[{"e1/Pos":{"_exists":"false"}}]')],
    ['_exists 0', docFrame('[{"e1/Pos":{"_exists":0}}]')],
    ['_exists 1', docFrame('[{"e0/Gone":{"_exists":1,"v":9}}]')],
    ['_exists null', docFrame('[{"e1/Pos":{"_exists":null}}]')],
    ['_exists an object', docFrame('[{"e1/Pos":{"_exists":{}}}]')],
    ['_exists a buffer delta', docFrame('[{"e1/Pos":{"_exists":{"__buf":1,"len":0,"runs":[]}}}]')],
    ['ephemeral _exists a string', ephFrame('[{"cursor/b":{"_exists":"no"}}]')],
  ]),
  ...cases(
    'forbidden-name',
    ['__proto__', 'constructor', 'prototype'].flatMap(
      (name): Array<[string, string]> => [
        [`"${name}" as a document key`, docFrame(`[{"${name}":{"polluted":true}}]`)],
        [`"${name}" as an ephemeral key`, ephFrame(`[{"${name}":{"polluted":true}}]`)],
        [`"${name}" as a field name`, docFrame(`[{"e1/Pos":{"${name}":{"polluted":true}}}]`)],
        [`"${name}" as an ephemeral field name`, ephFrame(`[{"cursor/h":{"${name}":{"polluted":true}}}]`)],
        [`"${name}" inside a field value`, fieldFrame(`{"${name}":{"polluted":true}}`)],
        [
          `"${name}" inside an array in a field value`,
          fieldFrame(`[1,{"a":[{"${name}":{"polluted":true}}]}]`),
        ],
        [
          `"${name}" deep inside a field value`,
          fieldFrame(`{"a":{"b":{"c":{"${name}":{"polluted":true}}}}}`),
        ],
        [`"${name}" as a reconnect key`, reconnectFrame(`[{"${name}":{"polluted":true}}]`)],
      ],
    ),
  ),
  ...cases('too-deep', [
    // B6: depth is checked on the raw text before parsing, wherever the nesting is.
    ['a type nested 100,000 levels deep', `{"type":${deepArray(DEEP)}}`],
    ['messageId nested 100,000 levels deep', `{"type":"patch","messageId":${deepArray(DEEP)}}`],
    ['a patch nested 100,000 levels deep', docFrame(`[${deepArray(DEEP)}]`)],
    ['a component nested 100,000 levels deep', docFrame(`[{"e1/Pos":${deepArray(DEEP)}}]`)],
    ['a field value of arrays nested 100,000 levels', fieldFrame(deepArray(DEEP))],
    ['a field value of objects nested 100,000 levels', fieldFrame(deepObject(DEEP))],
    ['a field value nested 33 levels (default maxDepth 32)', fieldFrame(deepArray(33))],
    ['an ephemeral field value nested 100,000 levels', ephFrame(`[{"cursor/h":{"x":${deepArray(DEEP)}}}]`)],
  ]),
  ...cases('invalid-buffer-delta', [
    ['negative len', buf('"len":-1,"runs":[]')],
    ['fractional len', buf('"len":1.5,"runs":[]')],
    ['len a string', buf('"len":"3","runs":[]')],
    ['len missing', buf('"runs":[]')],
    ['run past len', buf('"len":2,"runs":[[1,[7,8]]]')],
    ['run offset past len', buf('"len":2,"runs":[[5,[]]]')],
    ['negative offset', buf('"len":2,"runs":[[-1,[7]]]')],
    ['fractional offset', buf('"len":2,"runs":[[0.5,[7]]]')],
    ['offset a string', buf('"len":2,"runs":[["0",[7]]]')],
    ['a string value', buf('"len":2,"runs":[[0,["7"]]]')],
    ['a null value', buf('"len":2,"runs":[[0,[null]]]')],
    ['an object value', buf('"len":2,"runs":[[0,[{"__proto__":1}]]]')],
    ['runs an object', buf('"len":2,"runs":{"0":[0,[7]]}')],
    ['runs missing', buf('"len":2')],
    ['a run that is not a pair', buf('"len":2,"runs":[[0]]')],
    ['a run with three parts', buf('"len":2,"runs":[[0,[7],1]]')],
    ['run values not an array', buf('"len":2,"runs":[[0,7]]')],
    ['an extra property', buf('"len":2,"runs":[],"extra":1')],
    ['__buf 2', fieldFrame('{"__buf":2,"len":2,"runs":[]}')],
    ['__buf true', fieldFrame('{"__buf":true,"len":2,"runs":[]}')],
    ['__buf "1"', fieldFrame('{"__buf":"1","len":2,"runs":[]}')],
    [
      'an ephemeral delta with a negative offset',
      ephFrame('[{"cursor/h":{"p":{"__buf":1,"len":2,"runs":[[-1,[1]]]}}}]'),
    ],
  ]),
  ...cases('buffer-too-long', [
    ['len 1e9', buf('"len":1000000000,"runs":[]')],
    ['len 100,001 (default maxBufferLength 100,000)', buf('"len":100001,"runs":[[100000,[1]]]')],
  ]),
];

/** Frames where valid patches come before an invalid one: nothing of them may apply (SPEC B2). */
export const MIXED_CASES: HostileCase[] = [
  { name: 'a valid patch then null', raw: docFrame('[{"e1/Pos":{"x":99}},null]'), code: 'invalid-patch' },
  {
    name: 'a valid patch then a forbidden key',
    raw: docFrame('[{"e1/Pos":{"x":99},"e9/New":{"v":1}},{"__proto__":{"polluted":true}}]'),
    code: 'forbidden-name',
  },
  {
    name: 'a resurrecting write then a bad component',
    raw: docFrame('[{"e0/Gone":{"_exists":true,"v":5}},{"e1/Pos":5}]'),
    code: 'invalid-component',
  },
  {
    name: 'a valid key then a too-deep key in the same patch',
    raw: docFrame(`[{"e1/Pos":{"x":99},"e2/Pos":{"x":${deepArray(40)}}}]`),
    code: 'too-deep',
  },
  {
    name: 'a deletion then a bad buffer delta',
    raw: docFrame('[{"e1/Pos":{"_exists":false}},{"e3/Buf":{"b":{"__buf":1,"len":-5,"runs":[]}}}]'),
    code: 'invalid-buffer-delta',
  },
  {
    name: 'valid document patches with invalid ephemeral patches',
    raw: '{"type":"patch","messageId":"h1","documentPatches":[{"e1/Pos":{"x":99}}],"ephemeralPatches":[null]}',
    code: 'invalid-patch',
  },
  {
    name: 'valid ephemeral patches with invalid document patches',
    raw: '{"type":"patch","messageId":"h1","documentPatches":[{"e1/Pos":{"_exists":"x"}}],"ephemeralPatches":[{"cursor/h":{"x":1}}]}',
    code: 'invalid-component',
  },
  {
    name: 'a reconnect with valid document patches and a forbidden ephemeral key',
    raw: '{"type":"reconnect","lastTimestamp":0,"protocolVersion":2,"documentPatches":[{"e1/Pos":{"x":99}}],"ephemeralPatches":[{"constructor":{"x":1}}]}',
    code: 'forbidden-name',
  },
];

/** A room seeded with live and deleted state, a hostile client and two honest ones. */
interface HostileRoom {
  room: Room;
  storage: RecordingStorage;
  logger: ReturnType<typeof recordingLogger>;
  hostile: FakeClient;
  honest: FakeClient;
  observer: FakeClient;
}

/** What a newcomer receives as ephemeral state on connect: only the honest client's cursor. */
const HONEST_EPHEMERAL = { 'cursor/b': { _exists: true, x: 1 } };

/**
 * Builds a room at clock 2 holding `e1/Pos` (live) and `e0/Gone` (tombstone), the
 * honest client's cursor, persisted once; every socket cleared.
 */
export async function hostileRoom(options: RoomOptions = {}): Promise<HostileRoom> {
  const storage = new RecordingStorage();
  const logger = recordingLogger();
  const room = createRoom({ storage, logger, ...options });
  const hostile = connect(room, { clientId: 'hostile' });
  const honest = connect(room, { clientId: 'honest' });
  const observer = connect(room, { clientId: 'observer' });
  honest.send({
    type: 'patch',
    messageId: 's1',
    documentPatches: [{ 'e1/Pos': { _exists: true, x: 1, y: 2 }, 'e0/Gone': { _exists: true, v: 1 } }],
    ephemeralPatches: [HONEST_EPHEMERAL],
  });
  honest.send({ type: 'patch', messageId: 's2', documentPatches: [{ 'e0/Gone': { _exists: false } }] });
  await room.flush();
  expect(room.getTimestamp()).toBe(2);
  expect(storage.saved).toHaveLength(1);
  for (const client of [hostile, honest, observer]) client.socket.clear();
  return { room, storage, logger, hostile, honest, observer };
}

/**
 * The `messageId` an error frame echoes for `raw` (B3): present when the frame
 * parsed to an object with a string `messageId` of at most 256 characters.
 */
export function echoedMessageId(raw: string): { messageId?: string } {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const { messageId } = parsed as { messageId?: unknown };
    return typeof messageId === 'string' && messageId.length <= 256 ? { messageId } : {};
  } catch {
    return {};
  }
}

/**
 * Sends `raw` from the hostile client and checks SPEC B1-B3 and B5-style
 * containment: no throw, no logged crash, one `error` frame with `code`, the
 * document, clock, persisted form and ephemeral state unchanged, nothing sent
 * to others, and the room still serving honest writes afterwards.
 */
export async function expectRejectedWithoutEffect(
  ctx: HostileRoom,
  raw: string,
  code: FrameErrorCode,
  options: { closeCode?: number } = {},
): Promise<void> {
  const { room, storage, logger, hostile, honest, observer } = ctx;
  const snapshotBefore = room.getSnapshot();
  const clockBefore = room.getTimestamp();
  const persistedBefore = storage.last;
  const savesBefore = storage.saved.length;

  expect(() => hostile.sendRaw(raw)).not.toThrow();

  // A frame refused for its size is never parsed, so it has no messageId to echo.
  const echoed = code === 'frame-too-large' ? {} : echoedMessageId(raw);
  expect(hostile.socket.messages).toEqual([{ type: 'error', code, message: expect.any(String), ...echoed }]);
  const [error] = hostile.socket.ofType('error');
  expect(error?.message.length).toBeGreaterThan(0);
  expect(logger.errors).toEqual([]);
  expect(room.getSnapshot()).toEqual(snapshotBefore);
  expect(room.getTimestamp()).toBe(clockBefore);
  if (options.closeCode === undefined) {
    expect(hostile.socket.closed).toBeNull();
    expect(honest.socket.sent).toEqual([]);
    expect(observer.socket.sent).toEqual([]);
  } else {
    expect(hostile.socket.closed?.code).toBe(options.closeCode);
    // S1: the only thing others learn is that a session left.
    expect(honest.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
    expect(observer.socket.messages).toEqual([{ type: 'clientCount', count: 2 }]);
  }
  await room.flush();
  expect(storage.saved).toHaveLength(savesBefore);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();

  // Ephemeral state untouched: a newcomer only sees the honest cursor (SPEC E2).
  const newcomer = connect(room, { clientId: 'newcomer' });
  expect(newcomer.socket.ofType('patch')).toEqual([
    { type: 'patch', clientId: '', ephemeralPatches: [HONEST_EPHEMERAL] },
  ]);
  for (const client of [hostile, honest, observer]) client.socket.clear();

  // The room still serves: an honest write is acked and broadcast, and persisted alone.
  const write = { 'e2/Pos': { _exists: true, x: 7 } };
  honest.send({ type: 'patch', messageId: 'after', documentPatches: [write] });
  const next = clockBefore + 1;
  expect(honest.socket.messages).toEqual([{ type: 'ack', messageId: 'after', timestamp: next }]);
  const broadcast = { type: 'patch', clientId: 'honest', documentPatches: [write], timestamp: next };
  expect(observer.socket.messages).toEqual([broadcast]);
  expect(newcomer.socket.messages.at(-1)).toEqual(broadcast);
  if (options.closeCode === undefined) expect(hostile.socket.messages).toEqual([broadcast]);
  else expect(hostile.socket.sent).toEqual([]);
  await room.flush();
  expect(storage.saved).toHaveLength(savesBefore + 1);
  expect(storage.last).toEqual({
    timestamp: next,
    state: { ...persistedBefore?.state, 'e2/Pos': { _exists: true, x: 7 } },
    timestamps: { ...persistedBefore?.timestamps, 'e2/Pos': { _exists: next, x: next } },
  });
  expect(logger.errors).toEqual([]);
}
