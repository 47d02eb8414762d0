import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents } from '../src/index.js';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

function keysIn(frame: Record<string, unknown>): number {
  const patches = (frame.documentPatches ?? []) as Array<Record<string, unknown>>;
  return patches.reduce((sum, patch) => sum + Object.keys(patch).length, 0);
}

describe('frame limits', () => {
  it('[B4] an offline buffer larger than one frame is sent in several frames within the limits', async () => {
    server = await TestServer.start({
      roomOptions: () => ({ limits: { maxFrameBytes: 4_000, maxKeysPerFrame: 20 } }),
    });
    const a = makeClient(server.url, 'room', { frameLimits: { maxFrameBytes: 2_000, maxKeysPerFrame: 10 } });
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const closes: Array<ClientEvents['close']> = [];
    a.on('close', (event) => closes.push(event));
    a.disconnect();
    a.transact(() => {
      for (let i = 0; i < 100; i++) a.set(`e${i}/Note`, { text: `note ${i} `.repeat(5) });
    });
    a.connect();
    await eventually(() => b.document.size === 100);
    await eventually(() => a.pendingCount === 0);
    const room = await server.room('room');
    expect(documentOf(a)).toEqual(room.getSnapshot().state);
    expect(documentOf(b)).toEqual(room.getSnapshot().state);
    expect(closes).toEqual([{ code: 1000, reason: 'client disconnect' }]);
    const writes = [...server.framesOfType('patch'), ...server.framesOfType('reconnect')];
    expect(writes.filter((frame) => keysIn(frame) > 0).length).toBeGreaterThanOrEqual(10);
    for (const text of server.received) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4_000);
    for (const frame of writes) expect(keysIn(frame)).toBeLessThanOrEqual(10);
  });

  it('[B2] writes the server would refuse throw at once and change nothing', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room');
    await a.whenSynced();
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => a.set('__proto__', { x: 1 })).toThrow(TypeError);
    expect(() => a.set('e1/Rect', { constructor: 1 })).toThrow(TypeError);
    expect(() => a.set('e1/Rect', { nested: { prototype: 1 } })).toThrow(TypeError);
    expect(() => a.set('e1/Rect', { deep })).toThrow(/deeper/);
    expect(() => a.set('k'.repeat(600), { x: 1 })).toThrow(/longer/);
    expect(() => a.set('bad\u0000key', { x: 1 })).toThrow(TypeError);
    expect(() => a.setArray('e1/Rect', 'points', [1, Number.NaN])).toThrow(TypeError);
    expect(() => a.delete('')).toThrow(TypeError);
    expect(a.document.size).toBe(0);
    expect(a.pendingCount).toBe(0);
  });
});
