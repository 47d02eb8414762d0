/**
 * History benchmark (`npm run bench:history`, SPEC H1): per backend, in one run,
 *
 * 1. storage cost of history per write: the bytes the backend stores for one
 *    write's history entry (a one-key edit of three fields), history on minus off;
 * 2. time to read a past state of a 100,000-component room 1, 1,000 and
 *    10,000 writes back (`room.readAt`, undone from the room's live document),
 *    and, in the same run, 1 write back undone from the stored components
 *    (`storage.readAt(clock)`, how every read worked before), as the baseline;
 * 3. acked writes per second with history on and off (`maxEntries: 0`),
 *    side by side, and their ratio.
 *
 * PostgreSQL: CANVAS_STORE_BENCH_PG_URL (else CANVAS_STORE_TEST_PG_URL, else
 * postgres://postgres@127.0.0.1:5432/test); its row says why when it is unreachable.
 * Prints a Markdown table; copy it into docs/performance.md (section History).
 */
import { cpus, loadavg } from 'node:os';
import { hasHistory, Room, type Storage, silentLogger } from 'canvas-store-server';
import { BACKENDS, type Backend, open, postgresProblem } from './backends.js';

const WRITES = 2_000;
const COMPONENTS = 100_000;
const EDITS = 10_000;
/**
 * Each read is timed this many times and the fastest is reported: on a
 * shared machine the slower runs measure the neighbours, not the read.
 */
const READS = 5;
const UNLIMITED = {
  framesPerSecond: 1e9,
  frameBurst: 1e9,
  bytesPerSecond: 1e12,
  byteBurst: 1e12,
  maxRoomKeys: 1e7,
  maxRoomBytes: 1e12,
};

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
  const measure = async (history: { maxEntries?: number }) => {
    const opened = open(backend, history);
    const room = await openRoom(opened.storage);
    await ackedWritesPerSecond(room, WRITES, 1);
    await room.close();
    const bytes = await opened.bytes();
    await opened.close();
    return bytes;
  };
  // Memory keeps JS objects, not bytes: nothing to measure.
  if (backend === 'memory') return Number.NaN;
  // Same writes with history on and off: the difference is what history stores.
  const on = await measure({});
  const off = await measure({ maxEntries: 0 });
  return (on - off) / WRITES;
}

/** Fastest wall time of `READS` runs of `read`, which must return the whole room. */
async function fastestMs(read: () => Promise<{ components: unknown[] }>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < READS; i++) {
    const started = performance.now();
    const state = await read();
    times.push(performance.now() - started);
    if (state.components.length !== COMPONENTS) throw new Error(`read ${state.components.length} components`);
  }
  return Math.min(...times);
}

interface ReadTimes {
  back1: number;
  back1000: number;
  back10000: number;
  storedBack1: number;
}

async function readPastState(backend: Backend): Promise<ReadTimes> {
  const opened = open(backend, {});
  const room = await openRoom(opened.storage);
  for (let start = 0; start < COMPONENTS; start += 1_000) {
    const patch: Record<string, Record<string, unknown>> = {};
    for (let i = start; i < start + 1_000; i++)
      patch[`e${i}/Shape`] = { _exists: true, x: i, y: -i, label: `s${i}` };
    room.applyServerPatch([patch]);
    await room.flush();
  }
  // One-key edits spread over the room (10,000 distinct keys: no key is met twice while undoing).
  for (let i = 0; i < EDITS; i++) {
    room.applyServerPatch([{ [`e${(i * 37) % COMPONENTS}/Shape`]: { x: -i } }]);
    if (i % 50 === 0) await room.flush();
  }
  await room.flush();
  const clock = room.getTimestamp();
  const storage = opened.storage;
  if (!hasHistory(storage)) throw new Error(`${backend} keeps no history`);
  const times: ReadTimes = {
    back1: await fastestMs(() => room.readAt(clock - 1)),
    back1000: await fastestMs(() => room.readAt(clock - 1_000)),
    back10000: await fastestMs(() => room.readAt(clock - 10_000)),
    storedBack1: await fastestMs(() => storage.readAt(clock - 1)),
  };
  await room.close({ flush: false });
  await opened.close();
  return times;
}

async function throughput(backend: Backend): Promise<{ on: number; off: number }> {
  const run = async (history: { maxEntries?: number }) => {
    const opened = open(backend, history);
    const room = await openRoom(opened.storage);
    const rate = await ackedWritesPerSecond(room, WRITES);
    await room.close({ flush: false });
    await opened.close();
    return rate;
  };
  // Alternate on and off twice and keep the best of each, so a noisy moment hits both.
  const on1 = await run({});
  const off1 = await run({ maxEntries: 0 });
  const on2 = await run({});
  const off2 = await run({ maxEntries: 0 });
  return { on: Math.max(on1, on2), off: Math.max(off1, off2) };
}

const ms = (value: number) => Math.round(value).toLocaleString('en-US');
const load = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');
const startLoad = load();
const pgProblem = await postgresProblem();
const rows: string[] = [];
for (const backend of BACKENDS) {
  if (backend === 'postgres' && pgProblem) {
    rows.push(`| postgres | unreachable: ${pgProblem} | | | | | | | |`);
    continue;
  }
  const bytes = await bytesPerWrite(backend);
  const read = await readPastState(backend);
  const rate = await throughput(backend);
  rows.push(
    `| ${backend} | ${Number.isNaN(bytes) ? '–' : Math.round(bytes)} | ${ms(read.back1)} | ${ms(read.back1000)} | ${ms(read.back10000)} | ${ms(read.storedBack1)} | ${Math.round(rate.on).toLocaleString('en-US')} | ${Math.round(rate.off).toLocaleString('en-US')} | ${(rate.on / rate.off).toFixed(2)} |`,
  );
  console.error(`done: ${backend}`);
}
console.log(
  [
    `History benchmark, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}; load average (1/5/15 min) ${startLoad} at the start, ${load()} at the end. readAt: fastest of ${READS}, a ${COMPONENTS.toLocaleString('en-US')}-component room.`,
    '',
    '| backend | history bytes per write | readAt 1 write back (ms) | 1,000 back (ms) | 10,000 back (ms) | 1 back from stored components (ms) | acked writes/s, history on | history off | on / off |',
    '| ------- | ----------------------: | -----------------------: | --------------: | ---------------: | ---------------------------------: | -------------------------: | ----------: | -------: |',
    ...rows,
  ].join('\n'),
);
