import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CloseCode,
  DEFAULT_ROOM_LIMITS,
  type FrameErrorCode,
  Room,
  RoomFullError,
  type RoomLimits,
  silentLogger,
} from '../../src/index.js';
import { docFrame, fieldFrame } from '../helpers/hostile-inputs.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';

const patch = (id: string, x: number) => ({
  type: 'patch',
  messageId: id,
  documentPatches: [{ 'e1/Pos': { _exists: true, x } }],
});

/** Two peers in a room with `limits`; the first is the one under test. */
function pair(limits: Partial<RoomLimits>, onTokenRefresh?: () => Promise<never>) {
  const room = createRoom({ limits, ...(onTokenRefresh ? { onTokenRefresh } : {}) });
  const a = connect(room, { clientId: 'a' });
  const b = connect(room, { clientId: 'b' });
  a.socket.clear();
  b.socket.clear();
  return { room, a, b };
}

function errorCodes(client: FakeClient): string[] {
  return client.socket.ofType('error').map((e) => e.code);
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'],
  });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('invalid-frame budget', () => {
  it('[B3][B4] a session exceeding maxInvalidFramesPerMinute is closed with InvalidFrames (4406)', () => {
    const { room, a, b } = pair({ maxInvalidFramesPerMinute: 3 });
    for (let i = 0; i < 3; i++) a.sendRaw('garbage');
    expect(errorCodes(a)).toEqual(['invalid-json', 'invalid-json', 'invalid-json']);
    expect(a.socket.closed).toBeNull();
    a.sendRaw(docFrame('[null]'));
    expect(errorCodes(a)).toEqual(['invalid-json', 'invalid-json', 'invalid-json', 'invalid-patch']);
    expect(a.socket.closed?.code).toBe(CloseCode.InvalidFrames);
    expect(CloseCode.InvalidFrames).toBe(4406);
    expect(room.getSessionCount()).toBe(1);
    expect(b.socket.messages).toEqual([{ type: 'clientCount', count: 1 }]);
    // A closed session's later frames are ignored.
    a.socket.clear();
    a.send(patch('late', 1));
    expect(a.socket.sent).toEqual([]);
    expect(room.getTimestamp()).toBe(0);
  });

  it('[B3][B4] the default budget tolerates 10 invalid frames a minute and closes on the 11th', () => {
    const { a } = pair({});
    for (let i = 0; i < 10; i++) a.sendRaw('{"type":"nope"}');
    expect(a.socket.closed).toBeNull();
    a.sendRaw('{"type":"nope"}');
    expect(a.socket.closed?.code).toBe(CloseCode.InvalidFrames);
  });

  it('[B3][B4] the budget is per minute: it refills once a minute has passed', () => {
    const { a } = pair({ maxInvalidFramesPerMinute: 3 });
    for (let i = 0; i < 3; i++) a.sendRaw('[]');
    vi.advanceTimersByTime(61_000);
    for (let i = 0; i < 3; i++) a.sendRaw('[]');
    expect(a.socket.closed).toBeNull();
    a.sendRaw('[]');
    expect(a.socket.closed?.code).toBe(CloseCode.InvalidFrames);
  });

  it('[B3] valid frames keep working while the budget is not exhausted', () => {
    const { room, a, b } = pair({ maxInvalidFramesPerMinute: 1 });
    a.sendRaw('garbage');
    a.send(patch('ok', 5));
    expect(a.socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'ok', timestamp: 1 }]);
    expect(b.socket.ofType('patch')).toHaveLength(1);
    expect(room.getSnapshot().state['e1/Pos']).toEqual({ _exists: true, x: 5 });
  });
});

describe('rate limits', () => {
  it('[B3][B4] exceeding framesPerSecond/frameBurst closes with RateLimited (4429) and drops the frame', () => {
    const { room, a, b } = pair({ framesPerSecond: 1, frameBurst: 3 });
    for (let i = 1; i <= 3; i++) a.send(patch(`m${i}`, i));
    expect(a.socket.ofType('ack').map((m) => m.messageId)).toEqual(['m1', 'm2', 'm3']);
    a.send(patch('m4', 4));
    expect(errorCodes(a)).toEqual(['rate-limited']);
    expect(a.socket.closed?.code).toBe(CloseCode.RateLimited);
    expect(CloseCode.RateLimited).toBe(4429);
    expect(room.getTimestamp()).toBe(3);
    expect(room.getSnapshot().state['e1/Pos']).toEqual({ _exists: true, x: 3 });
    expect(b.socket.ofType('patch')).toHaveLength(3);
  });

  it('[B4] the frame bucket refills at framesPerSecond', () => {
    const { a } = pair({ framesPerSecond: 1, frameBurst: 3 });
    for (let i = 1; i <= 3; i++) a.send(patch(`m${i}`, i));
    vi.advanceTimersByTime(1_000);
    a.send(patch('m4', 4));
    expect(a.socket.closed).toBeNull();
    expect(a.socket.ofType('ack').at(-1)).toEqual({ type: 'ack', messageId: 'm4', timestamp: 4 });
    a.send(patch('m5', 5));
    expect(a.socket.closed?.code).toBe(CloseCode.RateLimited);
  });

  it('[B3][B4] a flood of invalid frames is also rate limited', () => {
    const { a } = pair({ framesPerSecond: 1, frameBurst: 3, maxInvalidFramesPerMinute: 1_000 });
    for (let i = 0; i < 4; i++) a.sendRaw('x');
    expect(errorCodes(a)).toEqual(['invalid-json', 'invalid-json', 'invalid-json', 'rate-limited']);
    expect(a.socket.closed?.code).toBe(CloseCode.RateLimited);
  });

  it('[B3][B4] exceeding bytesPerSecond/byteBurst closes with RateLimited (4429)', () => {
    const { room, a } = pair({ bytesPerSecond: 100, byteBurst: 1_000 });
    const frame = (id: string) => fieldFrame(`"${id}${'p'.repeat(400)}"`);
    a.sendRaw(frame('a'));
    a.sendRaw(frame('b'));
    expect(a.socket.ofType('ack')).toHaveLength(2);
    a.sendRaw(frame('c'));
    expect(errorCodes(a)).toEqual(['rate-limited']);
    expect(a.socket.closed?.code).toBe(CloseCode.RateLimited);
    expect(room.getTimestamp()).toBe(2);
  });

  it('[B4] the byte bucket refills at bytesPerSecond', () => {
    const { a } = pair({ bytesPerSecond: 100, byteBurst: 1_000 });
    const frame = fieldFrame(`"${'p'.repeat(400)}"`);
    a.sendRaw(frame);
    a.sendRaw(frame);
    vi.advanceTimersByTime(10_000);
    a.sendRaw(frame);
    a.sendRaw(frame);
    expect(a.socket.closed).toBeNull();
    expect(a.socket.ofType('ack')).toHaveLength(4);
  });

  it('[B4][B5] rate limits are per session: one flooding session does not slow another', () => {
    const { room, a, b } = pair({ framesPerSecond: 1, frameBurst: 3 });
    for (let i = 0; i < 10; i++) a.sendRaw('{"type":"patch","messageId":"f"}');
    expect(a.socket.closed?.code).toBe(CloseCode.RateLimited);
    for (let i = 1; i <= 3; i++) b.send(patch(`b${i}`, i));
    expect(b.socket.ofType('ack').map((m) => m.messageId)).toEqual(['b1', 'b2', 'b3']);
    expect(room.getTimestamp()).toBe(3);
  });
});

describe('sessions per room', () => {
  it('[B4] maxSessionsPerRoom makes handleSocketConnect throw RoomFullError without disturbing the room', () => {
    const { room, a, b } = pair({ maxSessionsPerRoom: 2 });
    expect(() => connect(room, { clientId: 'c' })).toThrow(RoomFullError);
    expect(room.getSessionCount()).toBe(2);
    expect(a.socket.sent).toEqual([]);
    expect(b.socket.sent).toEqual([]);
    room.handleSocketClose(b.sessionId);
    expect(() => connect(room, { clientId: 'c' })).not.toThrow();
    expect(room.getSessionCount()).toBe(2);
  });

  it('[B4] the default allows 1,000 sessions per room and refuses the next', () => {
    const room = createRoom();
    for (let i = 0; i < 1_000; i++) connect(room, { clientId: `c${i}` });
    let error: unknown;
    try {
      connect(room, { clientId: 'one-too-many' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RoomFullError);
    expect((error as RoomFullError).limit).toBe(1_000);
    expect(room.getSessionCount()).toBe(1_000);
  });
});

describe('frames held during auth-refresh', () => {
  it('[B3][B4] more than maxQueuedFrames frames while busy closes with TooManyPendingFrames', () => {
    const { room, a } = pair({ maxQueuedFrames: 2 }, () => new Promise<never>(() => {}));
    a.send({ type: 'auth-refresh', token: 'new' });
    a.send(patch('q1', 1));
    a.send(patch('q2', 2));
    expect(a.socket.closed).toBeNull();
    a.send(patch('q3', 3));
    expect(a.socket.closed?.code).toBe(CloseCode.TooManyPendingFrames);
    expect(room.getTimestamp()).toBe(0);
  });
});

describe('limit configuration', () => {
  const limitNames = Object.keys(DEFAULT_ROOM_LIMITS) as Array<keyof RoomLimits>;

  it('[B4] every default limit is a finite positive number', () => {
    expect(limitNames.length).toBeGreaterThanOrEqual(15);
    for (const name of limitNames) {
      const value = DEFAULT_ROOM_LIMITS[name];
      expect(Number.isFinite(value) && value > 0, name).toBe(true);
    }
  });

  for (const bad of [-1, Number.NaN, '5' as unknown as number]) {
    it(`[B4] new Room rejects every limit set to ${String(bad)} with a RangeError`, () => {
      for (const name of limitNames) {
        expect(() => new Room({ logger: silentLogger, limits: { [name]: bad } }), name).toThrow(RangeError);
      }
    });
  }

  it('[B4] zero is a valid setting (e.g. no sessions at all)', () => {
    const room = createRoom({ limits: { maxSessionsPerRoom: 0 } });
    expect(() => connect(room)).toThrow(RoomFullError);
  });

  const frameLimitCases: Array<{ limit: Partial<RoomLimits>; raw: string; code: FrameErrorCode }> = [
    { limit: { maxFrameBytes: 40 }, raw: fieldFrame('"a longer value"'), code: 'frame-too-large' },
    {
      limit: { maxKeysPerFrame: 1 },
      raw: docFrame('[{"a/1":{"x":1},"a/2":{"x":1}}]'),
      code: 'too-many-keys',
    },
    {
      limit: { maxFieldsPerComponent: 1 },
      raw: docFrame('[{"a/1":{"x":1,"y":1}}]'),
      code: 'too-many-fields',
    },
    { limit: { maxKeyLength: 2 }, raw: docFrame('[{"a/1":{"x":1}}]'), code: 'key-too-long' },
    { limit: { maxDepth: 1 }, raw: fieldFrame('[[1]]'), code: 'too-deep' },
    {
      limit: { maxBufferLength: 2 },
      raw: fieldFrame('{"__buf":1,"len":3,"runs":[]}'),
      code: 'buffer-too-long',
    },
    {
      limit: { maxMessageIdLength: 1 },
      raw: '{"type":"patch","messageId":"mm","documentPatches":[{"a/1":{"x":1}}]}',
      code: 'invalid-field',
    },
    { limit: { maxTokenLength: 1 }, raw: '{"type":"auth-refresh","token":"tt"}', code: 'invalid-field' },
  ];
  for (const { limit, raw, code } of frameLimitCases) {
    const name = Object.keys(limit)[0];
    it(`[B4] ${name} is configurable per room: a frame the defaults accept is rejected with "${code}"`, () => {
      const defaults = pair({});
      defaults.a.sendRaw(raw);
      expect(errorCodes(defaults.a)).not.toContain(code);
      const tight = pair(limit);
      tight.a.sendRaw(raw);
      expect(errorCodes(tight.a)).toEqual([code]);
      expect(tight.room.getTimestamp()).toBe(0);
    });
  }
});
