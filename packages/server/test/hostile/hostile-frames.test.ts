import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/index.js';
import {
  docFrame,
  expectRejectedWithoutEffect,
  HOSTILE_CASES,
  hostileRoom,
  MIXED_CASES,
} from '../helpers/hostile-inputs.js';
import { connect, createRoom } from '../helpers/room-harness.js';

afterEach(() => {
  // Nothing a client sent may have reached Object.prototype or Array.prototype (SPEC B2).
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
});

describe('hostile frames against a live room', () => {
  for (const { name, raw, code } of HOSTILE_CASES) {
    it(`[B1][B2][B3] ${name}: answered with "${code}", changes nothing`, async () => {
      await expectRejectedWithoutEffect(await hostileRoom(), raw, code);
    });
  }

  for (const { name, raw, code } of MIXED_CASES) {
    it(`[B2][B3] ${name}: the frame is validated as a whole and nothing of it applies ("${code}")`, async () => {
      await expectRejectedWithoutEffect(await hostileRoom(), raw, code);
    });
  }

  it('[B2] a frame is all or nothing: the valid half of a rejected frame is not acked either', async () => {
    const ctx = await hostileRoom();
    ctx.hostile.sendRaw(docFrame('[{"e1/Pos":{"x":99}},null]'));
    expect(ctx.hostile.socket.ofType('ack')).toEqual([]);
    expect(ctx.room.getSnapshot().state['e1/Pos']).toEqual({ _exists: true, x: 1, y: 2 });
    // Resending the valid half alone works, so the rejection above was about the frame, not the write.
    ctx.hostile.send({ type: 'patch', messageId: 'ok', documentPatches: [{ 'e1/Pos': { x: 99 } }] });
    expect(ctx.hostile.socket.ofType('ack')).toEqual([{ type: 'ack', messageId: 'ok', timestamp: 3 }]);
    expect(ctx.room.getSnapshot().state['e1/Pos']).toEqual({ _exists: true, x: 99, y: 2 });
  });

  it('[B2][B3] an invalid reconnect gets no reply, no resync and no synced, only the error', async () => {
    const ctx = await hostileRoom();
    ctx.hostile.sendRaw(
      '{"type":"reconnect","lastTimestamp":50,"protocolVersion":2,"documentPatches":[{"e1/Pos":{"x":9}}],"ephemeralPatches":[5]}',
    );
    expect(ctx.hostile.socket.messages.map((m) => m.type)).toEqual(['error']);
    expect(ctx.room.getTimestamp()).toBe(2);
  });

  it('[B1][B3] a frame-too-large frame closes the hostile session with 1009 and changes nothing', async () => {
    const ctx = await hostileRoom();
    const raw = docFrame(`[{"e1/Pos":{"x":"${'x'.repeat(2 * 1024 * 1024)}"}}]`);
    await expectRejectedWithoutEffect(ctx, raw, 'frame-too-large', { closeCode: CloseCode.FrameTooLarge });
  });
});

describe('prototype-related names', () => {
  it('[B2] "__proto__" as an envelope property neither pollutes nor supplies fields', async () => {
    const ctx = await hostileRoom();
    // Own property "__proto__" next to a valid patch: the patch applies as sent, nothing else does.
    ctx.hostile.sendRaw(
      '{"type":"patch","messageId":"p1","__proto__":{"documentPatches":[{"e1/Pos":{"x":666}}],"polluted":true},"documentPatches":[{"e5/A":{"_exists":true,"v":1}}]}',
    );
    expect(ctx.hostile.socket.messages).toEqual([{ type: 'ack', messageId: 'p1', timestamp: 3 }]);
    expect(ctx.room.getSnapshot().state).toEqual({
      'e1/Pos': { _exists: true, x: 1, y: 2 },
      'e5/A': { _exists: true, v: 1 },
    });
    expect(ctx.logger.errors).toEqual([]);
  });

  it('[B2] "constructor" and "prototype" envelope properties cannot stand in for required fields', async () => {
    const ctx = await hostileRoom();
    ctx.hostile.sendRaw(
      '{"type":"patch","constructor":{"messageId":"m"},"documentPatches":[{"e1/Pos":{"x":9}}]}',
    );
    ctx.hostile.sendRaw('{"type":"auth-refresh","prototype":{"token":"t"}}');
    expect(ctx.hostile.socket.messages).toEqual([
      { type: 'error', code: 'invalid-field', message: expect.any(String) },
      { type: 'error', code: 'invalid-field', message: expect.any(String) },
    ]);
    expect(ctx.room.getTimestamp()).toBe(2);
  });

  it('[B2] names that merely shadow Object.prototype members are ordinary data', async () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'a' });
    const b = connect(room, { clientId: 'b' });
    const names = ['toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf', '__proto'];
    const component = Object.fromEntries(names.map((n, i) => [n, i]));
    a.send({
      type: 'patch',
      messageId: 'm1',
      documentPatches: [
        { toString: { _exists: true, ...component }, hasOwnProperty: { _exists: true, x: 1 } },
      ],
    });
    a.send({
      type: 'patch',
      messageId: 'm2',
      ephemeralPatches: [{ valueOf: { _exists: true, toString: 'cursor' } }],
    });
    expect(a.socket.ofType('ack').map((m) => m.messageId)).toEqual(['m1', 'm2']);
    const stored = { toString: { _exists: true, ...component }, hasOwnProperty: { _exists: true, x: 1 } };
    expect(room.getSnapshot().state).toEqual(stored);
    // The stored state still serves reconnects and newcomers correctly.
    b.socket.clear();
    b.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    expect(b.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: '',
        documentPatches: [stored],
        ephemeralPatches: [{ valueOf: { _exists: true, toString: 'cursor' } }],
        timestamp: 1,
      },
      { type: 'synced', timestamp: 1 },
    ]);
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });

  it('[B2] forbidden names are rejected wherever they appear, even after many valid keys', async () => {
    const ctx = await hostileRoom();
    const valid = Array.from({ length: 500 }, (_, i) => `"e${i}/P":{"v":${i}}`).join(',');
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      ctx.hostile.socket.clear();
      ctx.hostile.sendRaw(docFrame(`[{${valid}},{"e1/Pos":{"x":{"list":[[{"${name}":{"polluted":1}}]]}}}]`));
      expect(ctx.hostile.socket.messages).toEqual([
        { type: 'error', code: 'forbidden-name', message: expect.any(String), messageId: 'h1' },
      ]);
    }
    expect(ctx.room.getTimestamp()).toBe(2);
    expect(Object.keys(ctx.room.getSnapshot().state)).toEqual(['e1/Pos']);
  });
});

describe('odd message payloads', () => {
  it('[B1] non-string payloads handed to handleSocketMessage do not throw and are judged as text', () => {
    const room = createRoom();
    const a = connect(room);
    a.socket.clear();
    const frame = '{"type":"patch","messageId":"buf","documentPatches":[{"e1/P":{"x":1}}]}';
    const send = (data: unknown) => room.handleSocketMessage(a.sessionId, data as string);
    expect(() => send(Buffer.from(frame))).not.toThrow();
    expect(() => send(undefined)).not.toThrow();
    expect(() => send(12)).not.toThrow();
    expect(() => send(new Uint8Array([0xff, 0xfe, 0x00]))).not.toThrow();
    expect(a.socket.messages).toEqual([
      { type: 'ack', messageId: 'buf', timestamp: 1 },
      { type: 'error', code: 'invalid-json', message: expect.any(String) },
      { type: 'error', code: 'not-an-object', message: expect.any(String) },
      { type: 'error', code: 'invalid-json', message: expect.any(String) },
    ]);
  });

  it('[B1] frames for unknown or closed sessions are ignored without throwing', () => {
    const room = createRoom();
    const a = connect(room);
    expect(() => room.handleSocketMessage('no-such-session', 'garbage')).not.toThrow();
    room.handleSocketClose(a.sessionId);
    a.socket.clear();
    expect(() => a.sendRaw(docFrame('[{"e1/P":{"x":1}}]'))).not.toThrow();
    expect(a.socket.sent).toEqual([]);
    expect(room.getTimestamp()).toBe(0);
  });

  it('[B1][B2] unknown envelope properties, even nested 100,000 deep, are ignored, not walked', async () => {
    const ctx = await hostileRoom();
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    ctx.hostile.sendRaw(
      `{"type":"patch","messageId":"x1","extra":${deep},"documentPatches":[{"e7/P":{"v":1}}]}`,
    );
    expect(ctx.hostile.socket.messages).toEqual([{ type: 'ack', messageId: 'x1', timestamp: 3 }]);
    expect(ctx.logger.errors).toEqual([]);
  });
});
