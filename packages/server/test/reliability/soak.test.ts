/**
 * Soak (issue 6): the real server command (SQLite storage) under a steady,
 * paced mixed load for 60 s (`npm test`) or 10 minutes (`npm run test:long`)
 * stays healthy:
 *
 * - its heap after a full GC does not keep growing (robust trend over the
 *   samples after a warm-up, with a tolerance that a per-frame or
 *   per-session leak exceeds; see {@link HEAP_TOLERANCE});
 * - it does not leak file descriptors: during the run they never exceed the
 *   idle baseline plus the open connections plus a small constant, and they
 *   return to the baseline once the clients are gone;
 * - write latency stays flat (no steady growth window after window);
 * - every write is acked, no client gets an error frame, an unrequested close
 *   or a frame out of order, every reconnect reply of the run (writers,
 *   readers, new and returning visitors, final readers) matches what the
 *   acked writes imply, and so do the listeners' mirrors, the admin API's
 *   document and the ephemeral state at the end (acked writes lost: 0).
 *
 * The load is in soak-load.ts: writers at a fixed rate (creates, partial
 * updates, deletes and re-creates, strokes growing by buffer deltas, cursor
 * updates), readers, visitor churn (several new sockets a second, clean
 * closes and terminated sockets, returning clients reconnecting with a
 * `lastTimestamp` and offline edits, transient rooms that idle-close and
 * reopen from storage), and `/metrics`, `/healthz`, `/readyz` and the admin
 * API polled at every sample.
 *
 * Environment: `CANVAS_SOAK_SEED` replays a seed. `CANVAS_SOAK_INJECT_LEAK`
 * (`frame:<bytes>` or `session:0`) plants a leak in the server through a
 * preload; the test must then fail on the heap criterion, which is how its
 * tolerance was checked (figures in the report of issue 6).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  growsInEveryWindow,
  median,
  type ProbeReading,
  quantile,
  recordFigures,
  scaled,
  startProbedServer,
} from '../harness/reliability-harness.js';
import { cleanup, metric, parseMetrics, tempDir } from '../harness/server-process.js';
import { type DocState, diffStates } from '../harness/soak/doc-state.js';
import { fdTargets, httpGet, leakPreloadSource, theilSen } from '../harness/soak/process-figures.js';
import { pollUntil, SoakLoad, type SoakShape } from '../harness/soak/soak-load.js';

const SEED = Number(process.env.CANVAS_SOAK_SEED ?? 20_261_126);
const INJECT_LEAK = process.env.CANVAS_SOAK_INJECT_LEAK;
const LOAD_MS = scaled(60_000, 600_000);
const SAMPLE_EVERY_MS = 5_000;
/**
 * Samples before this are warm-up, left out of the heap trend: the document
 * filling its slots, strokes reaching their cap, and most of V8's compiled
 * code (which keeps growing, ever more slowly, for minutes; see below).
 */
const WARMUP_MS = scaled(20_000, 60_000);
/**
 * How much the heap after GC may grow over the measured span (Theil-Sen slope
 * after warm-up times the span). Calibrated on this 2-core machine:
 *
 * - Without a leak it still grows, ever more slowly, by V8's compiled code
 *   and bytecode (heap snapshots 30 s and 220 s into a run differ by 420 KB
 *   of `code` and nothing else of note; everything else is freed once the
 *   clients leave): 0.32-0.35 MB projected over the short run's 40 s, about
 *   0.35 MB per extra 3 minutes later on.
 * - A per-session leak (each closed WebSocket kept, about 8 KB) projects to
 *   1.34 MB in the short run; a per-frame leak of 64 bytes to 1.82 MB.
 *
 * 768 KiB sits between the two with a factor of about 2 on both sides. The
 * long run measures 9 minutes: a per-frame leak of 8 bytes (about 150,000
 * frames) or a per-session leak of 1 KB (about 2,000 sessions) exceeds 2 MiB,
 * while compiled code adds well under 1 MB there.
 */
const HEAP_TOLERANCE = scaled(768 * 1024, 2 * 1024 * 1024);
/** Windows the write latencies are split into for the trend test. */
const LATENCY_WINDOWS = scaled(6, 10);
/**
 * The latency trend test fails when every window's median is 5% above the
 * one before. Noise on the shared machine moves single windows both ways
 * (p50 between 1.6 and 6.5 ms in calibration runs), but not up in every one
 * of 5 (9) steps; a backlog or a leak slowing the server does that.
 */
const LATENCY_GROWTH = 1.05;
const ADMIN_SECRET = 'soak-admin-secret-0123456789';
/**
 * Descriptors besides one per connection that may be open at a sample: the
 * SQLite checkpoint worker once started (6, see {@link FD_END_SLACK}), the
 * sampler's last HTTP connection, an upgrade being accepted, a terminated
 * socket not reaped yet. A leak of one descriptor per churned connection
 * exceeds it within seconds (the short run opens over 200).
 */
const FD_SLACK = 16;
/**
 * Descriptors the server may have opened for good during the run: SQLite's
 * checkpoint worker thread starts once the WAL grows and keeps its event loop
 * (epoll, eventfd, a pipe pair) and its own database and WAL handles (6),
 * plus the sampler's last HTTP connection not closed yet.
 */
const FD_END_SLACK = 8;

/** Held load, well under what the machine can do, so it is the same at minute 1 and minute 10. */
const SHAPE: SoakShape = {
  rooms: 4,
  writersPerRoom: 3,
  readersPerRoom: 1,
  transientRooms: 2,
  writeIntervalMs: 100,
  cursorIntervalMs: 100,
  visitorIntervalMs: 250,
  visitorStayMs: [1_000, 5_000],
  returningPool: 12,
};

interface Sample {
  at: number;
  heapUsed: number;
  rss: number;
  fds: number;
  /** Sockets the test had open around the probe (the higher of before and after). */
  sockets: number;
  connections: number;
  rooms: number;
  sessions: number;
}

const seedNote = `(seed ${SEED}; rerun with CANVAS_SOAK_SEED=${SEED})`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

afterEach(cleanup);

/** The server under soak and the ways the test reads it. */
interface SoakServer {
  pid: number;
  port: number;
  probe: () => Promise<ProbeReading>;
  admin: { authorization: string };
  adminRooms: () => Promise<Array<{ roomId: string; sessions: number }>>;
  gauges: () => Promise<{ connections: number; rooms: number }>;
}

/** Phase 1: the probed server over SQLite (with the injected leak, when asked for). */
async function startSoakServer(): Promise<SoakServer> {
  const nodeArgs: string[] = [];
  if (INJECT_LEAK) {
    const preload = join(tempDir('soak-leak-'), 'leak.mjs');
    writeFileSync(preload, leakPreloadSource(INJECT_LEAK));
    nodeArgs.push('--import', preload);
  }
  const { server, probe } = await startProbedServer({
    args: [
      '--storage',
      'sqlite',
      '--data-dir',
      tempDir('canvas-soak-'),
      '--admin-secret',
      ADMIN_SECRET,
      // Transient rooms close 2 s after their last visitor leaves and reopen from storage (S3).
      '--idle-timeout',
      '2000',
    ],
    nodeArgs,
  });
  const port = server.port;
  const admin = { authorization: `Bearer ${ADMIN_SECRET}` };
  const adminRooms = async () => {
    const { status, text } = await httpGet(port, '/admin/rooms', admin);
    if (status !== 200) throw new Error(`/admin/rooms answered ${status}`);
    return (JSON.parse(text) as { rooms: Array<{ roomId: string; sessions: number }> }).rooms;
  };
  const gauges = async () => {
    const { status, text } = await httpGet(port, '/metrics');
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
    const samples = parseMetrics(text);
    return {
      connections: metric(samples, 'canvas_connections') ?? Number.NaN,
      rooms: metric(samples, 'canvas_rooms') ?? Number.NaN,
    };
  };
  return { pid: server.pid, port, probe, admin, adminRooms, gauges };
}

/** Phase 2, the run: a sample every few seconds until the load time is over. */
async function sampleUntilLoadEnds(
  soak: SoakServer,
  load: SoakLoad,
  endpointProblems: string[],
): Promise<Sample[]> {
  const { port, probe, admin } = soak;
  const samples: Sample[] = [];
  for (;;) {
    const due = (samples.length + 1) * SAMPLE_EVERY_MS;
    const now = performance.now() - load.startedAt;
    if (due > LOAD_MS) {
      await sleep(Math.max(0, LOAD_MS - now));
      break;
    }
    await sleep(Math.max(0, due - now));
    const socketsBefore = load.sockets.size;
    const reading = await probe();
    const socketsAfter = load.sockets.size;
    const { connections, rooms } = await soak.gauges();
    const listed = await soak.adminRooms();
    // The other endpoints are polled too, as operators and load balancers would.
    const roomId = load.roomIds[samples.length % load.roomIds.length] as string;
    for (const [path, headers] of [
      [`/admin/rooms/${roomId}/document`, admin],
      ['/healthz', {}],
      ['/readyz', {}],
    ] as const) {
      const { status } = await httpGet(port, path, headers);
      if (status !== 200) endpointProblems.push(`${path} answered ${status}`);
    }
    samples.push({
      at: performance.now() - load.startedAt,
      heapUsed: reading.heapUsed,
      rss: reading.rss,
      fds: reading.fds,
      sockets: Math.max(socketsBefore, socketsAfter),
      connections,
      rooms,
      sessions: listed.reduce((sum, r) => sum + r.sessions, 0),
    });
  }
  return samples;
}

/** Phase 4: the end state against the oracle, room by room. */
async function checkEndState(
  soak: SoakServer,
  load: SoakLoad,
): Promise<{ endProblems: string[]; ackedWritesLost: number }> {
  const endProblems: string[] = [];
  let ackedWritesLost = 0;
  const writerCursors: DocState = new Map();
  for (const writer of load.writers) writerCursors.set(writer.cursorKey, writer.lastCursor ?? {});
  for (const roomId of [...load.roomIds, ...load.transientRoomIds]) {
    const model = load.model(roomId);
    // Checked against the model by the oracle too (a D7 failure if it differs).
    const read = await load.freshRead(roomId);
    const expected = read.checked.state;
    // D1: every clock value up to the room's clock belongs to exactly one acked write.
    const { pendingWrites, pendingChecks } = model.outstanding();
    if (pendingWrites + pendingChecks > 0 || model.replayed !== read.synced) {
      endProblems.push(
        `[D1] ${roomId}: clock ${read.synced}, acked writes replayed in order up to ${model.replayed}, ` +
          `${pendingWrites} acked writes beyond a gap, ${pendingChecks} replies unchecked`,
      );
    }
    ackedWritesLost += diffStates(expected, read.document, Number.POSITIVE_INFINITY).length;
    // D10: the admin API's live document is the model without tombstones.
    const { text } = await httpGet(soak.port, `/admin/rooms/${roomId}/document`, soak.admin);
    const snapshot = JSON.parse(text) as {
      timestamp: number;
      state: Record<string, Record<string, unknown>>;
    };
    const live = new Map([...expected].filter(([, component]) => component._exists !== false));
    const adminDiff = diffStates(live, new Map(Object.entries(snapshot.state)));
    if (snapshot.timestamp !== read.synced || adminDiff.length > 0) {
      endProblems.push(`[D10] ${roomId} admin document at ${snapshot.timestamp}: ${adminDiff.join('; ')}`);
    }
    // E2, E3: the others' ephemeral state is exactly the writers' last cursors, no visitor's left.
    const cursors = new Map([...writerCursors].filter(([key]) => key.startsWith(`${roomId}-writer-`)));
    const ephemeralDiff = diffStates(cursors, read.ephemeral);
    if (ephemeralDiff.length > 0) endProblems.push(`[E3] ${roomId} new client's ephemeral: ${ephemeralDiff}`);
    // A3, D6: the readers' mirrors, built from broadcasts, end where the acked writes do.
    for (const reader of load.readers.filter((r) => r.socket.roomId === roomId)) {
      const mirrorDiff = diffStates(expected, reader.document);
      if (mirrorDiff.length > 0) endProblems.push(`[A3] ${roomId} reader mirror: ${mirrorDiff.join('; ')}`);
      const presenceDiff = diffStates(cursors, reader.ephemeral);
      if (presenceDiff.length > 0) endProblems.push(`[E3] ${roomId} reader ephemeral: ${presenceDiff}`);
    }
  }
  return { endProblems, ackedWritesLost };
}

/** Phase 5: everyone leaves; connections, sessions and descriptors back to the baseline. */
async function everyoneLeaves(
  soak: SoakServer,
  load: SoakLoad,
  baseline: ProbeReading,
): Promise<{ end: ProbeReading; endFdTargets: string }> {
  load.closeAll();
  await pollUntil(async () => (await soak.gauges()).connections === 0, 'the connections gauge to reach 0');
  await pollUntil(
    async () => (await soak.adminRooms()).every((r) => r.sessions === 0),
    'every room to report no session',
  );
  let end: ProbeReading = await soak.probe();
  await pollUntil(
    async () => {
      end = await soak.probe();
      return end.fds <= baseline.fds + FD_END_SLACK;
    },
    'descriptors to return to the baseline',
    30_000,
  ).catch(() => {}); // asserted below, with the figures
  return { end, endFdTargets: fdTargets(soak.pid) };
}

/** Phase 6: the heap trend after warm-up and the write latency, window by window. */
function trends(samples: Sample[], load: SoakLoad) {
  const measured = samples.filter((s) => s.at >= WARMUP_MS);
  const heapSlope = theilSen(
    measured.map((s) => s.at / 1000),
    measured.map((s) => s.heapUsed),
  );
  const spanS = ((measured.at(-1)?.at ?? 0) - (measured[0]?.at ?? 0)) / 1000;
  const projectedGrowth = heapSlope * spanS;
  const thirds = Math.max(1, Math.floor(measured.length / 3));
  // Latencies in send order, split in windows of equal counts (the load is paced, so equal times).
  const ordered = [...load.latencies].sort((a, b) => a.at - b.at).map((l) => l.ms);
  const size = Math.max(1, Math.floor(ordered.length / LATENCY_WINDOWS));
  const latencyWindows = Array.from({ length: LATENCY_WINDOWS }, (_, w) => {
    const window = ordered.slice(w * size, (w + 1) * size);
    return {
      writes: window.length,
      p50Ms: round(quantile(window, 0.5)),
      p99Ms: round(quantile(window, 0.99)),
    };
  });
  const latencyGrows = growsInEveryWindow(ordered, LATENCY_WINDOWS, LATENCY_GROWTH);
  return { measured, heapSlope, projectedGrowth, thirds, latencyWindows, latencyGrows };
}

describe('soak: sustained mixed load', () => {
  it(
    '[D1] [D6] [D7] [D10] [O2] [O3] [A3] [E2] [E3] heap, descriptors and latency stay flat, no acked write is lost',
    async () => {
      const soak = await startSoakServer();
      const { probe } = soak;
      const endpointProblems: string[] = [];

      const baseline = await probe();
      const load = new SoakLoad(soak.port, SEED, SHAPE);
      await load.start();
      const samples = await sampleUntilLoadEnds(soak, load, endpointProblems);
      const loadMs = performance.now() - load.startedAt;

      // Phase 3, wind down: no new visitors, every write acked, visitors reaped by the server.
      await load.stop();
      const unacked = load.unacked();
      const persistent = load.writers.length + load.readers.length;
      await pollUntil(async () => (await soak.gauges()).connections === persistent, 'visitors to be reaped');
      const withPersistent = await probe();

      const { endProblems, ackedWritesLost } = await checkEndState(soak, load);
      const { end, endFdTargets } = await everyoneLeaves(soak, load, baseline);

      // ---- figures
      const { measured, heapSlope, projectedGrowth, thirds, latencyWindows, latencyGrows } = trends(
        samples,
        load,
      );
      const heaps = samples.map((s) => s.heapUsed);
      const writesAcked = load.allModels().reduce((sum, m) => sum + m.writesAcked, 0);
      const fdsOverConnections = Math.max(...samples.map((s) => s.fds - s.sockets - baseline.fds));
      const figures = {
        seed: SEED,
        injectedLeak: INJECT_LEAK ?? null,
        durationMs: Math.round(loadMs),
        rooms: SHAPE.rooms,
        transientRooms: SHAPE.transientRooms,
        writers: load.writers.length,
        readers: load.readers.length,
        peakClients: load.peakSockets,
        peakSessionsOnServer: Math.max(...samples.map((s) => s.sessions)),
        peakConnectionsGauge: Math.max(...samples.map((s) => s.connections)),
        // Transient rooms idle-close and reopen: the gauge moves between these.
        roomsOpenRange: [Math.min(...samples.map((s) => s.rooms)), Math.max(...samples.map((s) => s.rooms))],
        writesAcked,
        ackRatePerSecond: Math.round(writesAcked / (loadMs / 1000)),
        ephemeralUpdates: load.ephemeralUpdates,
        framesSent: load.framesSent,
        framesReceived: load.framesReceived,
        churnConnections: load.visits,
        returningReconnects: load.returningVisits,
        cleanCloses: load.cleanLeaves,
        terminatedSockets: load.terminatedLeaves,
        reconnectRepliesChecked: load.allModels().reduce((sum, m) => sum + m.checksPassed, 0),
        heapAfterGc: {
          idleBaseline: baseline.heapUsed,
          first: heaps[0],
          last: heaps.at(-1),
          max: Math.max(...heaps),
          afterWarmupFirstThirdMedian: median(measured.slice(0, thirds).map((s) => s.heapUsed)),
          afterWarmupLastThirdMedian: median(measured.slice(-thirds).map((s) => s.heapUsed)),
          slopeBytesPerMinute: Math.round(heapSlope * 60),
          projectedGrowthBytes: Math.round(projectedGrowth),
          toleranceBytes: HEAP_TOLERANCE,
          allClientsGone: end.heapUsed,
          samples: heaps,
        },
        rssBytes: {
          first: samples[0]?.rss,
          last: samples.at(-1)?.rss,
          max: Math.max(...samples.map((s) => s.rss)),
          allClientsGone: end.rss,
        },
        fds: {
          idleBaseline: baseline.fds,
          max: Math.max(...samples.map((s) => s.fds)),
          maxAboveBaselinePlusConnections: fdsOverConnections,
          withPersistentClientsOnly: withPersistent.fds,
          allClientsGone: end.fds,
        },
        latencyWindows,
        ackedWritesLost,
        unacked,
        failures: load.failures.count + endProblems.length + endpointProblems.length,
      };
      recordFigures('soak', figures);

      // ---- verdicts
      const summary = JSON.stringify({ ...figures, heapAfterGc: { ...figures.heapAfterGc, samples: heaps } });
      const context = `${seedNote}\n${summary}`;
      expect(load.failures.list, `failures during the run ${seedNote}`).toEqual([]);
      expect(endProblems, `end state ${seedNote}`).toEqual([]);
      expect(endpointProblems, 'HTTP endpoints').toEqual([]);
      expect(unacked, `writes never acked ${context}`).toBe(0);
      expect(ackedWritesLost, `acked writes lost ${context}`).toBe(0);
      expect(writesAcked, context).toBeGreaterThan(0);
      expect(projectedGrowth, `heap after GC keeps growing ${context}`).toBeLessThan(HEAP_TOLERANCE);
      expect(fdsOverConnections, `descriptors beyond one per connection ${context}`).toBeLessThanOrEqual(
        FD_SLACK,
      );
      expect(withPersistent.fds, `descriptors once visitors left ${context}`).toBeLessThanOrEqual(
        baseline.fds + persistent + FD_SLACK,
      );
      expect(end.fds, `descriptors after every client left: ${endFdTargets} ${context}`).toBeLessThanOrEqual(
        baseline.fds + FD_END_SLACK,
      );
      expect(latencyGrows, `write latency grows window after window ${context}`).toBe(false);
    },
    LOAD_MS + scaled(90_000, 240_000),
  );
});
