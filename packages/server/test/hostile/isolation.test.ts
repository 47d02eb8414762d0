import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloseCode, type Room, RoomManager, type RoomSnapshot, type Storage } from '../../src/index.js';
import { RecordingStorage, recordingLogger } from '../helpers/hostile-inputs.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';

/** A storage whose every save fails, asynchronously or synchronously. */
class FailingStorage implements Storage {
  saveCalls = 0;
  constructor(private readonly mode: 'reject' | 'throw' = 'reject') {}
  async load(): Promise<RoomSnapshot | null> {
    return null;
  }
  save(_snapshot: RoomSnapshot): Promise<void> {
    this.saveCalls++;
    if (this.mode === 'throw') throw new Error('disk on fire (sync)');
    return Promise.reject(new Error('disk on fire'));
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  vi.useRealTimers();
});

/** Lets queued promise callbacks and immediate callbacks run (real timers). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A write from `writer`, expecting an ack and a broadcast to `reader`. */
function expectServed(writer: FakeClient, reader: FakeClient, id: string, value: number, timestamp: number) {
  writer.socket.clear();
  reader.socket.clear();
  const documentPatches = [{ 'e1/Pos': { _exists: true, x: value } }];
  writer.send({ type: 'patch', messageId: id, documentPatches });
  expect(writer.socket.messages).toEqual([{ type: 'ack', messageId: id, timestamp }]);
  expect(reader.socket.messages).toEqual([
    { type: 'patch', clientId: writer.clientId, documentPatches, timestamp },
  ]);
}

function twoClients(room: Room): [FakeClient, FakeClient] {
  return [connect(room, { clientId: 'w' }), connect(room, { clientId: 'r' })];
}

describe('a failing storage stays inside its room', () => {
  for (const mode of ['reject', 'throw'] as const) {
    it(`[B5][P4] saves that ${mode} do not crash and do not affect another room's sessions`, async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
      const badStorage = new FailingStorage(mode);
      const badLogger = recordingLogger();
      const bad = createRoom({ storage: badStorage, logger: badLogger, saveThrottleMs: 0 });
      const goodStorage = new RecordingStorage();
      const good = createRoom({ storage: goodStorage, saveThrottleMs: 0 });
      const [bw, br] = twoClients(bad);
      const [gw, gr] = twoClients(good);

      expectServed(bw, br, 'b1', 1, 1);
      for (let i = 0; i < 8; i++) await vi.advanceTimersByTimeAsync(31_000);
      expect(badStorage.saveCalls).toBeGreaterThanOrEqual(3);
      expect(bad.stats.saveFailures).toBe(badStorage.saveCalls);
      expect(badLogger.errors).toContain('room save failed');

      expectServed(gw, gr, 'g1', 10, 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(goodStorage.last?.state['e1/Pos']).toEqual({ _exists: true, x: 10 });
      expect(good.stats.saveFailures).toBe(0);
      // The troubled room itself keeps serving its sessions.
      expectServed(bw, br, 'b2', 2, 2);
      await expect(bad.flush()).rejects.toThrow(/disk on fire/);
      expectServed(gw, gr, 'g2', 20, 2);
      await good.flush();
      expect(goodStorage.last?.timestamp).toBe(2);
      expect(unhandled).toEqual([]);
    });
  }

  it('[B5] a room whose save never settles does not delay another room', async () => {
    const hanging = createRoom({
      storage: { load: async () => null, save: () => new Promise<void>(() => {}) },
      saveThrottleMs: 0,
    });
    const goodStorage = new RecordingStorage();
    const good = createRoom({ storage: goodStorage, saveThrottleMs: 0 });
    const [hw, hr] = twoClients(hanging);
    const [gw, gr] = twoClients(good);
    expectServed(hw, hr, 'h1', 1, 1);
    await settle();
    expectServed(gw, gr, 'g1', 5, 1);
    await good.flush();
    expect(goodStorage.last?.state['e1/Pos']).toEqual({ _exists: true, x: 5 });
    expectServed(hw, hr, 'h2', 2, 2);
  });

  it('[B5][P4] closing a room whose storage fails rejects its own close, not other rooms', async () => {
    const bad = createRoom({ storage: new FailingStorage(), saveThrottleMs: 0 });
    const good = createRoom({ storage: new RecordingStorage(), saveThrottleMs: 0 });
    const [bw] = twoClients(bad);
    const [gw, gr] = twoClients(good);
    bw.send({ type: 'patch', messageId: 'x', documentPatches: [{ 'a/B': { _exists: true, v: 1 } }] });
    await expect(bad.close()).rejects.toThrow(/disk on fire/);
    expect(bw.socket.closed?.code).toBe(CloseCode.GoingAway);
    expect(gw.socket.closed).toBeNull();
    expectServed(gw, gr, 'g1', 3, 1);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('[B5] a RoomManager room with a failing storage idles out without crashing; its neighbour keeps working', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const logger = recordingLogger();
    const goodStorage = new RecordingStorage();
    const manager = new RoomManager({
      idleTimeout: 1_000,
      logger,
      createStorage: (roomId) => (roomId === 'bad' ? new FailingStorage() : goodStorage),
    });
    const bad = await manager.getRoom('bad');
    const good = await manager.getRoom('good');
    const [bw, br] = twoClients(bad);
    const [gw, gr] = twoClients(good);
    expectServed(bw, br, 'b1', 1, 1);
    bad.handleSocketClose(bw.sessionId);
    bad.handleSocketClose(br.sessionId);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(manager.getExistingRoom('bad')).toBeUndefined();
    expect(logger.errors).toContain('idle room could not be persisted on close');
    expect(manager.getExistingRoom('good')).toBe(good);
    expectServed(gw, gr, 'g1', 7, 1);
    await good.flush();
    expect(goodStorage.last?.state['e1/Pos']).toEqual({ _exists: true, x: 7 });
    expect(unhandled).toEqual([]);
  });
});

describe('a flood in one room stays inside it', () => {
  it('[B5][B3] a rate-limited and an invalid-frame flooder do not disturb another room', () => {
    const limits = { framesPerSecond: 1, frameBurst: 5, maxInvalidFramesPerMinute: 2 };
    const noisy = createRoom({ limits });
    const quiet = createRoom({ limits });
    const [flooder, spammer] = twoClients(noisy);
    const [qw, qr] = twoClients(quiet);
    for (let i = 0; i < 50; i++) {
      flooder.send({ type: 'patch', messageId: `f${i}`, documentPatches: [{ 'k/f': { i } }] });
      spammer.sendRaw('{"type":"patch","messageId":1}');
    }
    expect(flooder.socket.closed?.code).toBe(CloseCode.RateLimited);
    expect(spammer.socket.closed?.code).toBe(CloseCode.InvalidFrames);
    expect(noisy.getSessionCount()).toBe(0);
    for (let i = 1; i <= 5; i++) expectServed(qw, qr, `q${i}`, i, i);
    expect(quiet.getSessionCount()).toBe(2);
  });
});
