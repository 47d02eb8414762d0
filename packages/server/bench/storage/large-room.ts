/**
 * Child process of the storage benchmark, one per backend (a fresh heap each):
 *
 * 1. builds a 100,000-component room through patch frames of a fake socket
 *    session, then `await room.flush()`;
 * 2. edits it (random field updates at a steady pace, spread over timer turns)
 *    while `monitorEventLoopDelay` records the event-loop delay: its max is the
 *    longest stall, persistence included;
 * 3. closes the room (persisting it) and times `await room.load()` of a fresh
 *    Room over a fresh storage instance on the same data.
 *
 * Sends `result` (a {@link LargeRoomResult}) over IPC, or `error`.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import * as published from '@woven-ecs/canvas-store-server';
import { Room, type Storage, silentLogger } from 'canvas-store-server';
import { seededRandom } from '../../test/helpers/seeded-random.js';
import {
  type BackendConfig,
  emptyCounters,
  instrument,
  openStorages,
  resetCounters,
  type StorageCounters,
  type StorageSet,
} from './backends.js';
import { childConfig, toParent } from './child.js';
import { StallSampler } from './stall-sampler.js';
import { LARGE_ROOM, type LargeRoomResult } from './workload.js';

const ROOM_ID = 'large-room';
const UNLIMITED = {
  framesPerSecond: 1e9,
  frameBurst: 1e9,
  bytesPerSecond: 1e12,
  byteBurst: 1e12,
};
const FIELD_NAMES = ['x', 'y', 'width', 'height', 'rotation', 'opacity', 'fill', 'label'] as const;

/** What the benchmark needs of a room, for ours and the published one alike. */
interface BenchRoom {
  load(): Promise<void>;
  connect(): string;
  message(sessionId: string, text: string): void;
  flush(): Promise<void>;
  close(flush: boolean): Promise<void>;
  /** Live components, from getSnapshot() (slow; for verification only). */
  countComponents(): number;
}

function fakeSocket(): { send(data: string): void; close(): void } {
  return { send: () => {}, close: () => {} };
}

function openRoom(config: BackendConfig, storages: StorageSet, counters: StorageCounters | null): BenchRoom {
  if (config.backend === 'published-file') {
    const raw = storages.forRoom(ROOM_ID) as published.Storage;
    const storage = counters ? instrument(raw, counters) : raw;
    const room = new published.Room({
      createStorage: () => storage,
      saveThrottleMs: LARGE_ROOM.saveThrottleMs,
    });
    return {
      load: () => room.load(),
      connect: () =>
        room.handleSocketConnect({ socket: fakeSocket(), clientId: 'editor', permissions: 'readwrite' }),
      message: (sessionId, text) => room.handleSocketMessage(sessionId, text),
      flush: () => room.flush(),
      close: async (flush) => {
        if (flush) await room.flush();
        room.close({ flush: false });
      },
      countComponents: () => Object.keys(room.getSnapshot().state).length,
    };
  }
  let storage: Storage | undefined;
  if (config.backend !== 'none') {
    const raw = storages.forRoom(ROOM_ID) as Storage;
    storage = counters ? instrument(raw, counters) : raw;
  }
  const room = new Room({
    ...(storage ? { storage } : {}),
    saveThrottleMs: LARGE_ROOM.saveThrottleMs,
    limits: UNLIMITED,
    logger: silentLogger,
    roomId: ROOM_ID,
  });
  return {
    load: () => room.load(),
    connect: () =>
      room.handleSocketConnect({ socket: fakeSocket(), clientId: 'editor', permissions: 'readwrite' }),
    message: (sessionId, text) => room.handleSocketMessage(sessionId, text),
    flush: () => room.flush(),
    close: (flush) => room.close({ flush }),
    countComponents: () => Object.keys(room.getSnapshot().state).length,
  };
}

function fieldValue(field: string, rand: () => number): number | string {
  if (field === 'fill')
    return `#${Math.floor(rand() * 0xffffff)
      .toString(16)
      .padStart(6, '0')}`;
  if (field === 'label') return `shape ${Math.floor(rand() * 1e6)}`;
  return Math.round(rand() * 10_000) / 10;
}

function component(rand: () => number): Record<string, unknown> {
  const out: Record<string, unknown> = { _exists: true };
  for (const field of FIELD_NAMES) out[field] = fieldValue(field, rand);
  return out;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function log(message: string): void {
  process.stderr.write(`  [${process.argv[2] ? JSON.parse(process.argv[2]).backend : '?'}] ${message}\n`);
}

async function main(): Promise<void> {
  const config = childConfig();
  const counters = emptyCounters();
  const storages = openStorages(config);
  // Seeded, so every backend gets the same edits.
  const rand = seededRandom(42);
  const room = openRoom(config, storages, counters);
  await room.load();
  const sessionId = room.connect();
  room.message(sessionId, JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));

  // 1. Build.
  const buildStart = performance.now();
  let messageId = 0;
  for (let first = 0; first < LARGE_ROOM.components; first += LARGE_ROOM.buildFrameComponents) {
    const patch: Record<string, unknown> = {};
    const last = Math.min(LARGE_ROOM.components, first + LARGE_ROOM.buildFrameComponents);
    for (let i = first; i < last; i++) patch[`e${i}/Shape`] = component(rand);
    room.message(
      sessionId,
      JSON.stringify({ type: 'patch', messageId: `b${messageId++}`, documentPatches: [patch] }),
    );
    await nextTurn();
  }
  const flushStart = performance.now();
  await room.flush();
  const buildMs = performance.now() - buildStart;
  const flushMs = performance.now() - flushStart;
  log(
    `built ${LARGE_ROOM.components} components in ${buildMs.toFixed(0)} ms (final flush ${flushMs.toFixed(0)} ms)`,
  );

  // Start the window from a quiet heap so build garbage is not charged to persistence.
  gc();
  await sleep(300);
  gc();
  resetCounters(counters);

  // 2. Edit while measuring the event-loop delay.
  let maxGcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) maxGcMs = Math.max(maxGcMs, entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const sampler = new StallSampler();
  histogram.enable();
  sampler.start();
  const editStart = performance.now();
  const editEnd = editStart + LARGE_ROOM.editMs;
  let edits = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (performance.now() >= editEnd) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (let k = 0; k < LARGE_ROOM.editsPerTick; k++) {
        const key = `e${Math.floor(rand() * LARGE_ROOM.components)}/Shape`;
        const fields: Record<string, unknown> = {};
        const count = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < count; f++) {
          const field = FIELD_NAMES[Math.floor(rand() * FIELD_NAMES.length)] as string;
          fields[field] = fieldValue(field, rand);
        }
        room.message(
          sessionId,
          JSON.stringify({
            type: 'patch',
            messageId: `m${messageId++}`,
            documentPatches: [{ [key]: fields }],
          }),
        );
        edits++;
      }
    };
    const timer = setInterval(tick, LARGE_ROOM.editIntervalMs);
  });
  histogram.disable();
  sampler.stop();
  const windowMs = performance.now() - editStart;
  gcObserver.disconnect();
  const inWindow = { ...counters };
  log(
    `edited ${edits} frames in ${windowMs.toFixed(0)} ms: max loop delay ${(histogram.max / 1e6).toFixed(1)} ms, ` +
      `(${sampler.maxOwnMs.toFixed(1)} ms without CPU wait), saves ${inWindow.saves}, commits ${inWindow.commits}`,
  );

  // 3. Persist, then load fresh.
  const closeStart = performance.now();
  await room.close(true);
  const closeMs = performance.now() - closeStart;
  const loadMs: number[] = [];
  const storageLoadMs: number[] = [];
  let loadedComponents: number | null = null;
  if (config.backend !== 'none') {
    // A MemoryStorage's data lives in its instance: it is reused; every other backend is reopened.
    const keepStorages = config.backend === 'memory';
    if (!keepStorages) await storages.close();
    for (let rep = 0; rep < LARGE_ROOM.loadReps; rep++) {
      const fresh = keepStorages ? storages : openStorages(config);
      const loadCounters = emptyCounters();
      const loaded = openRoom(config, fresh, loadCounters);
      gc();
      await sleep(50);
      const started = performance.now();
      await loaded.load();
      loadMs.push(performance.now() - started);
      storageLoadMs.push(loadCounters.loadMs);
      if (rep === 0) loadedComponents = loaded.countComponents();
      await loaded.close(false);
      if (!keepStorages) await fresh.close();
    }
    log(
      `loaded in ${loadMs.map((ms) => ms.toFixed(0)).join(', ')} ms (storage.load() part ` +
        `${storageLoadMs.map((ms) => ms.toFixed(0)).join(', ')} ms; ${loadedComponents} components)`,
    );
  }
  if (config.backend === 'memory' || config.backend === 'none') await storages.close();

  const result: LargeRoomResult = {
    backend: config.backend,
    buildMs,
    flushMs,
    edits,
    windowMs,
    stallMaxMs: histogram.max / 1e6,
    stallP99Ms: histogram.percentile(99) / 1e6,
    stallMeanMs: histogram.mean / 1e6,
    sampledMaxGapMs: sampler.maxGapMs,
    runOfMaxGapMs: sampler.runOfMaxGapMs,
    waitOfMaxGapMs: sampler.waitOfMaxGapMs,
    stallSource: sampler.source,
    ownStallMs: sampler.maxOwnMs,
    maxGcMs,
    saves: inWindow.saves,
    maxSaveCallMs: inWindow.maxSaveCallMs,
    commits: inWindow.commits,
    maxCommitCallMs: inWindow.maxCommitCallMs,
    maxCommitMs: inWindow.maxCommitMs,
    closeMs,
    loadMs,
    storageLoadMs,
    loadedComponents,
  };
  toParent({ type: 'result', result });
}

main().then(
  () => {
    process.disconnect?.();
  },
  (error: unknown) => {
    toParent({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.disconnect?.();
    process.exitCode = 1;
  },
);
