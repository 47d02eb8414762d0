/**
 * Idle compaction (SPEC H3): retention runs as rooms commit, so the backends
 * also visit stored rooms in bounded steps and apply age retention to rooms
 * nobody writes, open or closed. The clock is injected: entries expire when
 * the test moves it, never by waiting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type HistoryDropReason, Room, silentLogger } from '../../src/index.js';
import { HistorySweeper } from '../../src/server/lifecycle/history-sweeper.js';
import { hasHistory, type RoomHistory } from '../../src/storage/history.js';
import { openStorageBackend } from '../../src/storage/open-storage-backend.js';
import type { StorageBackend, StorageBackendOptions } from '../../src/storage/storage-backend.js';
import { dropStorageTables, IN_CI, postgresProblem, TEST_PG_URL } from '../helpers/postgres.js';

const pgProblem = await postgresProblem();
const dirs: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  for (const prefix of prefixes) await dropStorageTables(prefix);
});

const BACKENDS: Array<{ name: string; skip?: boolean; options: () => StorageBackendOptions }> = [
  { name: 'memory', options: () => ({ kind: 'memory' }) },
  {
    name: 'sqlite',
    options: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-idle-'));
      dirs.push(dir);
      return { kind: 'sqlite', path: path.join(dir, 'rooms.db') };
    },
  },
  {
    name: 'postgres',
    skip: pgProblem !== null && !IN_CI,
    options: () => {
      const tablePrefix = `idle_${process.pid}_${Math.random().toString(36).slice(2, 10)}_`;
      prefixes.push(tablePrefix);
      return { kind: 'postgres', postgres: { connectionString: TEST_PG_URL, tablePrefix, pool: { max: 2 } } };
    },
  },
];

/** Creates `k`, creates and deletes `dead` (a tombstone), edits `k`: four writes. */
async function writeFour(room: Room): Promise<void> {
  room.applyServerPatch([{ k: { _exists: true, v: 1 } }]);
  room.applyServerPatch([{ dead: { _exists: true } }]);
  room.applyServerPatch([{ dead: { _exists: false } }]);
  room.applyServerPatch([{ k: { v: 2 } }]);
  await room.flush();
}

/** The storage each open room was given, to read what is stored rather than the room's memory. */
const storageOf = new WeakMap<Room, RoomHistory>();

/** What the storage holds of a room: its horizon, its history clocks and its stored keys (tombstones included). */
async function stored(room: Room): Promise<{ horizon: number; clocks: number[]; keys: string[] }> {
  const clocks = (await room.listHistory({ limit: 100 })).entries.map((entry) => entry.clock);
  const history = storageOf.get(room);
  if (!history) throw new Error('room opened without a history storage');
  // Without `live`, the read starts from the stored components: an open room's memory
  // keeps a tombstone that the storage compacted (the room does not reload it).
  const now = await history.readAt(room.getTimestamp());
  return {
    horizon: await room.historyHorizon(),
    clocks,
    keys: now.components.map((component) => component.key).sort(),
  };
}

describe('[H3] idle compaction: old history of rooms nobody writes is compacted, a few rooms per step', () => {
  const backends: StorageBackend[] = [];
  afterEach(async () => {
    for (const backend of backends.splice(0)) await backend.close();
  });

  for (const backend of BACKENDS) {
    it.skipIf(backend.skip)(
      `[H3] ${backend.name}: each step compacts at most its budget of rooms, open or closed, and goes round them all`,
      async () => {
        let now = 1_000_000;
        const dropped: Array<[HistoryDropReason, number]> = [];
        const storage = openStorageBackend({
          ...backend.options(),
          history: { maxAgeMs: 1_000, onDropped: (reason, entries) => dropped.push([reason, entries]) },
          now: () => now,
        });
        backends.push(storage);
        const compact = storage.compactIdleHistory?.bind(storage);
        if (!compact) throw new Error(`${backend.name} must offer idle compaction`);
        const open = async (roomId: string) => {
          const roomStorage = storage.forRoom(roomId);
          if (!hasHistory(roomStorage)) throw new Error(`${backend.name} must keep history`);
          const room = new Room({ roomId, storage: roomStorage, logger: silentLogger });
          storageOf.set(room, roomStorage);
          await room.load();
          return room;
        };
        // Rooms a and b are closed after writing; c stays open, idle.
        for (const roomId of ['a', 'b']) {
          const room = await open(roomId);
          await writeFour(room);
          await room.close();
        }
        const c = await open('c');
        await writeFour(c);
        const fresh = { horizon: 0, clocks: [4, 3, 2, 1], keys: ['dead', 'k'] };
        expect(await stored(c)).toEqual(fresh);
        // Nothing has expired yet: a step compacts nothing.
        expect(await compact(8)).toEqual([]);
        expect(await stored(c)).toEqual(fresh);

        now += 5_000;
        // Room d is written after the clock moved: its history is not old.
        const d = await open('d');
        await writeFour(d);
        // Four rooms, two visited per step: two steps go round them all, in whatever order the
        // backend keeps them; the third may start the next round.
        const steps = [await compact(2), await compact(2), await compact(2)];
        for (const step of steps) expect(step.length).toBeLessThanOrEqual(2);
        expect(steps.flat().sort()).toEqual(['a', 'b', 'c']);
        // Another round finds nothing left to compact.
        expect([await compact(2), await compact(2), await compact(2)].flat()).toEqual([]);

        // Every expired entry went, with the tombstones no readable state needs.
        const compacted = { horizon: 4, clocks: [], keys: ['k'] };
        expect(await stored(c)).toEqual(compacted);
        for (const roomId of ['a', 'b']) {
          const room = await open(roomId);
          expect(await stored(room)).toEqual(compacted);
          await room.close();
        }
        expect(await stored(d)).toEqual(fresh);
        expect(dropped).toEqual([
          ['age', 4],
          ['age', 4],
          ['age', 4],
        ]);
        // The open room goes on as before: its next write is history again.
        c.applyServerPatch([{ k: { v: 3 } }]);
        await c.flush();
        expect(await stored(c)).toEqual({ horizon: 4, clocks: [5], keys: ['k'] });
        await c.close();
        await d.close();
      },
    );
  }
});

describe('[H3] the server takes one idle compaction step per interval', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('[H3] one step at a time, with its budget; stop waits for the running step', async () => {
    vi.useFakeTimers();
    const budgets: number[] = [];
    let finish: () => void = () => {};
    const backend = openStorageBackend({ kind: 'memory' });
    backend.compactIdleHistory = (budget) => {
      budgets.push(budget);
      return new Promise((resolve) => {
        finish = () => resolve([]);
      });
    };
    const sweeper = new HistorySweeper(backend, silentLogger, 1_000, 16);
    sweeper.start();
    vi.advanceTimersByTime(999);
    expect(budgets).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(budgets).toEqual([16]);
    // A step still running is not overlapped by the next one.
    vi.advanceTimersByTime(3_000);
    expect(budgets).toEqual([16]);
    let stopped = false;
    const stopping = sweeper.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(budgets).toEqual([16]);
  });
});
