/**
 * History benchmark (`npm run bench:history`, SPEC H1): per backend, in one run,
 *
 * 1. storage cost of history per write: the bytes the backend stores for one
 *    write's history entry (a one-key edit of three fields);
 * 2. time to read a past state of a 100,000-component room, 1 and 1,000
 *    writes back (`room.readAt`);
 * 3. acked writes per second with history on and off (`maxEntries: 0`),
 *    side by side, and their ratio.
 *
 * Prints a Markdown table; copy it into docs/performance.md (section History).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileStorage,
  type HistoryRetention,
  MemoryHistoryStorage,
  Room,
  SqliteStorage,
  type Storage,
  silentLogger,
} from 'canvas-store-server';

type Backend = 'memory' | 'sqlite' | 'file';
const BACKENDS: Backend[] = ['memory', 'sqlite', 'file'];
const WRITES = 2_000;
const COMPONENTS = 100_000;
const UNLIMITED = {
  framesPerSecond: 1e9,
  frameBurst: 1e9,
  bytesPerSecond: 1e12,
  byteBurst: 1e12,
  maxRoomKeys: 1e7,
  maxRoomBytes: 1e12,
};

interface Opened {
  storage: Storage;
  /** Bytes on disk (or serialised, for memory) of what was stored. */
  bytes(): number;
  close(): Promise<void>;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stats = statSync(join(dir, name));
    if (stats.isFile()) total += stats.size;
  }
  return total;
}

function open(backend: Backend, history: Partial<HistoryRetention>): Opened {
  const dir = mkdtempSync(join(tmpdir(), 'history-bench-'));
  const cleanup = async () => rmSync(dir, { recursive: true, force: true });
  switch (backend) {
    case 'memory': {
      const storage = new MemoryHistoryStorage({ history });
      return { storage, bytes: () => 0, close: cleanup };
    }
    case 'sqlite': {
      const sqlite = new SqliteStorage({ path: join(dir, 'rooms.db'), history });
      return {
        storage: sqlite.forRoom('bench'),
        bytes: () => dirBytes(dir),
        close: async () => {
          await sqlite.close();
          await cleanup();
        },
      };
    }
    case 'file': {
      const storage = new FileStorage({ dir, roomId: 'bench', history, compactAfterBytes: 1e12 });
      return { storage, bytes: () => dirBytes(dir), close: cleanup };
    }
  }
}

async function openRoom(storage: Storage): Promise<Room> {
  const room = new Room({ storage, logger: silentLogger, limits: UNLIMITED });
  await room.load();
  return room;
}

/** Writes one patch per frame from `clients` fake sessions, each waiting for its ack; returns writes/s. */
async function ackedWritesPerSecond(room: Room, writes: number, clients = 4): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, (_, c) => {
      let resolveAck: (() => void) | null = null;
      const socket = {
        send: (data: string) => {
          if (data.includes('"ack"')) resolveAck?.();
        },
        close: () => {},
      };
      const sessionId = room.handleSocketConnect({ socket, clientId: `c${c}`, permissions: 'readwrite' });
      return (async () => {
        while (next < writes) {
          const i = next++;
          const acked = new Promise<void>((resolve) => {
            resolveAck = resolve;
          });
          room.handleSocketMessage(
            sessionId,
            JSON.stringify({
              type: 'patch',
              messageId: `m${i}`,
              documentPatches: [{ [`e${i % 500}/Shape`]: { _exists: true, x: i, y: i * 2, label: `w${i}` } }],
            }),
          );
          await acked;
        }
      })();
    }),
  );
  return writes / ((performance.now() - started) / 1000);
}

async function bytesPerWrite(backend: Backend): Promise<number> {
  const measure = async (history: Partial<HistoryRetention>) => {
    const opened = open(backend, history);
    const room = await openRoom(opened.storage);
    await ackedWritesPerSecond(room, WRITES, 1);
    await room.flush();
    const bytes = opened.bytes();
    await room.close({ flush: false });
    await opened.close();
    return bytes;
  };
  // Memory keeps JS objects, not bytes on disk: nothing to measure.
  if (backend === 'memory') return Number.NaN;
  // Same writes with history on and off: the difference is what history stores.
  const on = await measure({});
  const off = await measure({ maxEntries: 0 });
  return (on - off) / WRITES;
}

async function readPastState(backend: Backend): Promise<{ back1: number; back1000: number }> {
  const opened = open(backend, {});
  const room = await openRoom(opened.storage);
  for (let start = 0; start < COMPONENTS; start += 1_000) {
    const patch: Record<string, Record<string, unknown>> = {};
    for (let i = start; i < start + 1_000; i++)
      patch[`e${i}/Shape`] = { _exists: true, x: i, y: -i, label: `s${i}` };
    room.applyServerPatch([patch]);
    await room.flush();
  }
  for (let i = 0; i < 1_000; i++) {
    room.applyServerPatch([{ [`e${i * 37}/Shape`]: { x: -i } }]);
    if (i % 50 === 0) await room.flush();
  }
  await room.flush();
  const clock = room.getTimestamp();
  const time = async (at: number) => {
    const started = performance.now();
    const state = await room.readAt(at);
    const ms = performance.now() - started;
    if (state.components.length !== COMPONENTS) throw new Error(`read ${state.components.length} components`);
    return ms;
  };
  const back1 = await time(clock - 1);
  const back1000 = await time(clock - 1_000);
  await room.close({ flush: false });
  await opened.close();
  return { back1, back1000 };
}

async function throughput(backend: Backend): Promise<{ on: number; off: number }> {
  const run = async (history: Partial<HistoryRetention>) => {
    const opened = open(backend, history);
    const room = await openRoom(opened.storage);
    const rate = await ackedWritesPerSecond(room, WRITES);
    await room.close({ flush: false });
    await opened.close();
    return rate;
  };
  // Alternate on and off twice and keep the best of each, so a noisy moment hits both.
  const on = Math.max(await run({}), await run({}));
  const off = Math.max(await run({ maxEntries: 0 }), await run({ maxEntries: 0 }));
  return { on, off };
}

const rows: string[] = [];
for (const backend of BACKENDS) {
  const bytes = await bytesPerWrite(backend);
  const read = await readPastState(backend);
  const rate = await throughput(backend);
  rows.push(
    `| ${backend} | ${Number.isNaN(bytes) ? '–' : Math.round(bytes)} | ${read.back1.toFixed(0)} | ${read.back1000.toFixed(0)} | ${Math.round(rate.on)} | ${Math.round(rate.off)} | ${(rate.on / rate.off).toFixed(2)} |`,
  );
  console.error(`done: ${backend}`);
}
console.log(
  [
    '| backend | history bytes per write | readAt 1 write back, 100k components (ms) | readAt 1,000 writes back (ms) | acked writes/s, history on | history off | on / off |',
    '| ------- | ----------------------: | ----------------------------------------: | ----------------------------: | -------------------------: | ----------: | -------: |',
    ...rows,
  ].join('\n'),
);
