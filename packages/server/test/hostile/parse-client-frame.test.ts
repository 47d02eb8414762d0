import { describe, expect, it } from 'vitest';
import {
  type ClientMessage,
  DEFAULT_FRAME_LIMITS,
  type FrameError,
  type FrameLimits,
  type ParseResult,
  parseClientFrame,
} from '../../src/index.js';
import {
  deepArray,
  docFrame,
  echoedMessageId,
  fieldFrame,
  HOSTILE_CASES,
  MIXED_CASES,
} from '../helpers/hostile-inputs.js';

const limits = (overrides: Partial<FrameLimits> = {}): FrameLimits => ({
  ...DEFAULT_FRAME_LIMITS,
  ...overrides,
});

function parse(text: string, frameLimits: FrameLimits = DEFAULT_FRAME_LIMITS): ParseResult {
  return parseClientFrame(text, frameLimits);
}

function accepted(text: string, frameLimits?: FrameLimits): ClientMessage {
  const result = parse(text, frameLimits);
  if (!result.ok) throw new Error(`expected acceptance, got ${result.error.code}: ${result.error.message}`);
  return result.frame;
}

function rejected(text: string, frameLimits?: FrameLimits): FrameError {
  const result = parse(text, frameLimits);
  if (result.ok) throw new Error(`expected rejection, got ${JSON.stringify(result.frame)}`);
  return result.error;
}

describe('parseClientFrame accepts the three client frame types', () => {
  it('[B2] a patch frame comes back typed with its patches and without unknown properties', () => {
    const frame = accepted(
      JSON.stringify({
        type: 'patch',
        messageId: 'm1',
        documentPatches: [{ 'e1/Pos': { _exists: true, x: 1, tags: ['a', { b: [1] }] } }, {}],
        ephemeralPatches: [{ 'cursor/1': { x: 3 } }],
        extra: { ignored: true },
      }),
    );
    expect(frame).toEqual({
      type: 'patch',
      messageId: 'm1',
      documentPatches: [{ 'e1/Pos': { _exists: true, x: 1, tags: ['a', { b: [1] }] } }, {}],
      ephemeralPatches: [{ 'cursor/1': { x: 3 } }],
    });
    expect(frame).not.toHaveProperty('extra');
    if (frame.type !== 'patch') throw new Error('expected a patch frame');
    expect(frame.messageId).toBe('m1');
  });

  it('[B2] a patch frame without patches is valid (A1 decides it gets no ack)', () => {
    expect(accepted('{"type":"patch","messageId":""}')).toEqual({ type: 'patch', messageId: '' });
  });

  it('[B2] a reconnect frame comes back typed, any protocol version number accepted for the room to judge', () => {
    const frame = accepted(
      '{"type":"reconnect","lastTimestamp":12,"protocolVersion":2,"documentPatches":[{"e/P":{"_exists":false}}]}',
    );
    expect(frame).toEqual({
      type: 'reconnect',
      lastTimestamp: 12,
      protocolVersion: 2,
      documentPatches: [{ 'e/P': { _exists: false } }],
    });
    if (frame.type !== 'reconnect') throw new Error('expected a reconnect frame');
    expect(frame.lastTimestamp).toBe(12);
    expect(accepted('{"type":"reconnect","lastTimestamp":0,"protocolVersion":1}')).toMatchObject({
      protocolVersion: 1,
    });
  });

  it('[B2] an auth-refresh frame comes back typed with its token', () => {
    const frame = accepted('{"type":"auth-refresh","token":"tok"}');
    expect(frame).toEqual({ type: 'auth-refresh', token: 'tok' });
  });

  it('[B2][D6] well-formed buffer deltas are accepted, up to len = maxBufferLength and runs ending at len', () => {
    const delta = {
      __buf: 1,
      len: 100_000,
      runs: [
        [0, [1, 2]],
        [99_998, [3, 4]],
        [5, []],
      ],
    };
    const frame = accepted(
      JSON.stringify({ type: 'patch', messageId: 'b', documentPatches: [{ 'e/B': { d: delta } }] }),
    );
    expect(frame).toMatchObject({ documentPatches: [{ 'e/B': { d: delta } }] });
    accepted(fieldFrame('{"__buf":1,"len":0,"runs":[]}'));
  });

  it('[B2] _exists accepts exactly the booleans', () => {
    accepted(docFrame('[{"a/B":{"_exists":true}},{"a/B":{"_exists":false}}]'));
    expect(rejected(docFrame('[{"a/B":{"_exists":"true"}}]')).code).toBe('invalid-component');
  });
});

describe('parseClientFrame rejects every hostile input with its stable code', () => {
  for (const { name, raw, code } of [...HOSTILE_CASES, ...MIXED_CASES]) {
    it(`[B1][B2][B3] ${name} -> "${code}" without throwing`, () => {
      let result: ParseResult | undefined;
      expect(() => {
        result = parse(raw);
      }).not.toThrow();
      const echoed = code === 'frame-too-large' ? {} : echoedMessageId(raw);
      expect(result).toEqual({ ok: false, error: { code, message: expect.any(String), ...echoed } });
    });
  }

  it('[B3] error messages name what was wrong', () => {
    expect(rejected(docFrame('[{},{"a/B":{"x":1}},null]')).message).toContain('documentPatches[2]');
    expect(rejected(docFrame('[{"a/B":{"constructor":1}}]')).message).toContain('constructor');
    expect(rejected('{"type":"reconnect","lastTimestamp":"1","protocolVersion":2}').message).toContain(
      'lastTimestamp',
    );
    expect(rejected(fieldFrame('{"__buf":1,"len":2,"runs":[[1,[1,2]]]}')).message).toContain('run 0');
  });
});

describe('parseClientFrame enforces each frame limit exactly (B4)', () => {
  it('[B2][B4] maxFrameBytes counts UTF-8 bytes, not characters', () => {
    const frame = docFrame('[{"a/B":{"s":"ééé"}}]'); // each é is 2 bytes
    const bytes = Buffer.byteLength(frame, 'utf8');
    accepted(frame, limits({ maxFrameBytes: bytes }));
    expect(rejected(frame, limits({ maxFrameBytes: bytes - 1 })).code).toBe('frame-too-large');
    expect(frame.length).toBeLessThan(bytes);
  });

  it('[B2][B4] maxKeysPerFrame is shared across patches and both patch lists', () => {
    const two = '[{"a/1":{"x":1}},{"a/2":{"x":1}}]';
    const frame = `{"type":"patch","messageId":"m","documentPatches":${two},"ephemeralPatches":[{"c/1":{"x":1}}]}`;
    accepted(frame, limits({ maxKeysPerFrame: 3 }));
    expect(rejected(frame, limits({ maxKeysPerFrame: 2 })).code).toBe('too-many-keys');
    // Writing the same key twice still counts twice: the budget bounds work, not distinct keys.
    expect(rejected(docFrame('[{"a/1":{"x":1}},{"a/1":{"x":2}}]'), limits({ maxKeysPerFrame: 1 })).code).toBe(
      'too-many-keys',
    );
  });

  it('[B2][B4] maxFieldsPerComponent', () => {
    const frame = docFrame('[{"a/B":{"x":1,"y":2,"z":3}}]');
    accepted(frame, limits({ maxFieldsPerComponent: 3 }));
    expect(rejected(frame, limits({ maxFieldsPerComponent: 2 })).code).toBe('too-many-fields');
    const fields = Array.from({ length: 1001 }, (_, i) => `"f${i}":${i}`).join(',');
    expect(rejected(docFrame(`[{"a/B":{${fields}}}]`)).code).toBe('too-many-fields');
  });

  it('[B2][B4] maxKeyLength applies to keys and field names', () => {
    const long = 'k'.repeat(513);
    expect(rejected(docFrame(`[{"${long}":{"x":1}}]`)).code).toBe('key-too-long');
    expect(rejected(docFrame(`[{"a/B":{"${long}":1}}]`)).code).toBe('key-too-long');
    expect(rejected(`{"type":"patch","messageId":"m","ephemeralPatches":[{"${long}":{"x":1}}]}`).code).toBe(
      'key-too-long',
    );
    accepted(docFrame(`[{"${'k'.repeat(512)}":{"${'f'.repeat(512)}":1}}]`));
    expect(rejected(docFrame('[{"abcd":{"x":1}}]'), limits({ maxKeyLength: 3 })).code).toBe('key-too-long');
  });

  it('[B2][B4] maxDepth: 32 levels pass by default, 33 do not, and the limit is configurable', () => {
    accepted(fieldFrame(deepArray(32)));
    expect(rejected(fieldFrame(deepArray(33))).code).toBe('too-deep');
    accepted(fieldFrame(deepArray(3)), limits({ maxDepth: 3 }));
    expect(rejected(fieldFrame(deepArray(4)), limits({ maxDepth: 3 })).code).toBe('too-deep');
    expect(rejected(fieldFrame('{"a":{"b":{"c":{}}}}'), limits({ maxDepth: 3 })).code).toBe('too-deep');
  });

  it('[B2][B4] maxBufferLength', () => {
    const delta = (len: number) => fieldFrame(`{"__buf":1,"len":${len},"runs":[]}`);
    accepted(delta(10), limits({ maxBufferLength: 10 }));
    expect(rejected(delta(11), limits({ maxBufferLength: 10 })).code).toBe('buffer-too-long');
    expect(rejected(delta(1e9)).code).toBe('buffer-too-long');
    expect(rejected(delta(1e300)).code).toBe('buffer-too-long');
  });

  it('[B2][B4] maxMessageIdLength and maxTokenLength', () => {
    accepted(`{"type":"patch","messageId":"${'m'.repeat(256)}"}`);
    expect(rejected('{"type":"patch","messageId":"abcd"}', limits({ maxMessageIdLength: 3 })).code).toBe(
      'invalid-field',
    );
    accepted(`{"type":"auth-refresh","token":"${'t'.repeat(16_384)}"}`);
    expect(rejected('{"type":"auth-refresh","token":"abcd"}', limits({ maxTokenLength: 3 })).code).toBe(
      'invalid-field',
    );
  });
});
