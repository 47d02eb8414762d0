/** Measurements 2-5 of the core benchmark: reconnects, snapshot and heap on big rooms. */
import { type BenchRoom, type CapturingSocket, capturingSocket, IMPLS, type Impl } from '../lib/impls.js';
import {
  canForceGc,
  forceGc,
  type SampleOptions,
  type Samples,
  sampleInterleaved,
  settledHeapUsed,
  timeIt,
} from '../lib/measure.js';
import { formatNumber } from '../lib/table.js';
import { creationFrames, patchFrame, reconnectFrame, shapeKey } from '../lib/workload.js';
import {
  BUILD_PER_FRAME,
  CHANGED_KEYS,
  FULL_RECONNECT,
  type ImplId,
  RECENT_RECONNECT,
  SNAPSHOT,
} from './config.js';
import { log, type Measurement, measured, notAvailable } from './measurement.js';
import { connectWriter } from './sessions.js';

interface ChangedField {
  key: string;
  field: string;
  value: number;
}

/** The pre-serialized frames that build a room of `size` shapes and change it. */
export interface SizeWorkload {
  size: number;
  build: string[];
  changes: string[];
  changed: ChangedField[];
}

/** Generates the frames of {@link SizeWorkload}. */
export function sizeWorkload(size: number): SizeWorkload {
  const build = creationFrames(size, BUILD_PER_FRAME, 7, 'build');
  const changed: ChangedField[] = [];
  const changes: string[] = [];
  for (let k = 0; k < CHANGED_KEYS; k++) {
    const id = Math.floor(((k + 0.5) * size) / CHANGED_KEYS);
    const change = { key: shapeKey(id), field: 'x', value: 1_000_000 + k + 0.25 };
    changed.push(change);
    changes.push(patchFrame(`change${k}`, { [change.key]: { [change.field]: change.value } }));
  }
  return { size, build, changes, changed };
}

/** What a reconnect reply must hold: these exact field values, or this many keys. */
type ReplyExpectation = { changed: ChangedField[] } | { keyCount: number };

/** Checks a reconnect reply (SPEC D7): a `patch` with clientId '' holding what is expected, then `synced`. */
function checkReconnectReply(frames: readonly string[], expect: ReplyExpectation): string | null {
  if (frames.length === 0) return 'no reply at all';
  const messages = frames.map((frame) => JSON.parse(frame) as Record<string, unknown>);
  const last = messages[messages.length - 1];
  if (last?.type !== 'synced') return `the reply does not end with "synced" (got ${String(last?.type)})`;
  const merged: Record<string, Record<string, unknown>> = {};
  for (const message of messages) {
    if (message.type !== 'patch' || message.clientId !== '' || !Array.isArray(message.documentPatches))
      continue;
    for (const patch of message.documentPatches as Record<string, Record<string, unknown>>[]) {
      for (const key of Object.keys(patch)) merged[key] = { ...merged[key], ...patch[key] };
    }
  }
  const keys = Object.keys(merged).length;
  if ('keyCount' in expect) {
    return keys === expect.keyCount ? null : `the reply holds ${keys} keys, expected ${expect.keyCount}`;
  }
  for (const { key, field, value } of expect.changed) {
    if (merged[key]?.[field] !== value) return `the reply lacks ${key}.${field} = ${value}`;
  }
  return null;
}

/** Heap growth per component while building the room, in a fresh state. */
function measureHeap(impl: Impl, work: SizeWorkload): { heap: Measurement; buildMs: number } {
  forceGc();
  const handle = impl.create();
  const { room } = handle;
  const { writer, writerSocket } = connectWriter(room);
  const heapBefore = settledHeapUsed();
  const buildMs = timeIt(() => {
    for (const frame of work.build) room.handleSocketMessage(writer, frame);
  });
  const heapAfter = settledHeapUsed();
  const problem = buildProblem(handle.clock(), writerSocket.closed, work);
  handle.dispose();
  if (problem) return { heap: notAvailable(problem), buildMs };
  if (!canForceGc()) return { heap: notAvailable('run node with --expose-gc'), buildMs };
  return { heap: measured((heapAfter - heapBefore) / work.size), buildMs };
}

function buildProblem(clock: number, writerClosed: boolean, work: SizeWorkload): string | null {
  if (writerClosed) return 'the writer session was closed while building';
  if (clock !== work.build.length)
    return `building moved the clock to ${clock}, expected ${work.build.length}`;
  return null;
}

/** A built room of `work.size` shapes plus the changes, with a session for reconnects. */
interface BuiltRoom {
  impl: Impl;
  room: BenchRoom;
  dispose: () => void;
  /** The clock before the changes: what a recently disconnected client last saw. */
  built: number;
  reconnector: string;
  socket: CapturingSocket;
  problem: string | null;
}

function buildRoom(impl: Impl, work: SizeWorkload): BuiltRoom {
  const handle = impl.create();
  const { room } = handle;
  const { writer, writerSocket } = connectWriter(room);
  const socket = capturingSocket();
  const reconnector = room.handleSocketConnect({ socket, clientId: 'reconnector', permissions: 'readwrite' });
  for (const frame of work.build) room.handleSocketMessage(writer, frame);
  const built = handle.clock();
  const problem = buildProblem(built, writerSocket.closed, work);
  for (const frame of work.changes) room.handleSocketMessage(writer, frame);
  return { impl, room, dispose: handle.dispose, built, reconnector, socket, problem };
}

/** Sends `frame` on the reconnect session and returns the time taken; the reply lands in `target.socket.frames`. */
function reconnectOnce(target: BuiltRoom, frame: string): number {
  const { socket } = target;
  socket.frames.length = 0;
  socket.armed = true;
  const elapsed = timeIt(() => target.room.handleSocketMessage(target.reconnector, frame));
  socket.armed = false;
  return elapsed;
}

/**
 * Times one operation on every room, interleaved. `prepare` checks a room
 * before and after the measured runs and returns the timed operation, or
 * (as a string) why it cannot be measured.
 */
function measureOn(
  targets: readonly BuiltRoom[],
  options: SampleOptions,
  prepare: (target: BuiltRoom) => { run: () => number; check: () => string | null } | string,
): Record<ImplId, Measurement> {
  const results = {} as Record<ImplId, Measurement>;
  const ready: { target: BuiltRoom; run: () => number; check: () => string | null }[] = [];
  for (const target of targets) {
    try {
      const prepared = target.problem ?? prepare(target);
      if (typeof prepared === 'string') {
        results[target.impl.id] = notAvailable(prepared);
        continue;
      }
      const problem = prepared.check();
      if (problem) results[target.impl.id] = notAvailable(problem);
      else ready.push({ target, ...prepared });
    } catch (error) {
      results[target.impl.id] = notAvailable(`threw ${String(error)}`);
    }
  }
  forceGc();
  const samples = sampleInterleaved(
    ready.map(({ run }) => run),
    options,
  );
  ready.forEach(({ target, check }, index) => {
    const after = check(); // the last measured state must still be right
    const summary = samples[index] as Samples;
    results[target.impl.id] = after
      ? notAvailable(`after repeating: ${after}`)
      : measured(summary.median, summary);
  });
  for (const target of targets) target.socket.frames.length = 0;
  return results;
}

/** Everything measured on rooms of one size. */
export interface SizeResult {
  heap: Record<ImplId, Measurement>;
  buildMs: Record<ImplId, number>;
  recent: Record<ImplId, Measurement>;
  full: Record<ImplId, Measurement>;
  snapshot: Record<ImplId, Measurement>;
  recentReplyKeys: Record<ImplId, number | null>;
}

function replyKeyCount(frames: readonly string[]): number | null {
  const reply = frames.find((frame) => frame.startsWith('{"type":"patch"'));
  if (!reply) return null;
  const patches =
    (JSON.parse(reply) as { documentPatches?: Record<string, unknown>[] }).documentPatches ?? [];
  return patches.reduce((sum, patch) => sum + Object.keys(patch).length, 0);
}

/** Heap first (fresh rooms), then reconnects and snapshots on rooms of both, interleaved. */
export function measureSize(work: SizeWorkload): SizeResult {
  const heap = {} as Record<ImplId, Measurement>;
  const buildMs = {} as Record<ImplId, number>;
  for (const impl of IMPLS) {
    log(`  ${impl.id}: heap while building ${formatNumber(work.size)} shapes...`);
    const result = measureHeap(impl, work);
    heap[impl.id] = result.heap;
    buildMs[impl.id] = result.buildMs;
  }
  forceGc();
  log('  both: build, then reconnects and snapshots, interleaved...');
  const targets = IMPLS.map((impl) => buildRoom(impl, work));
  const recentReplyKeys = { ours: null, published: null } as Record<ImplId, number | null>;

  const recentFrame = (target: BuiltRoom) => reconnectFrame(target.built);
  const recent = measureOn(targets, RECENT_RECONNECT, (target) => {
    const frame = recentFrame(target);
    return {
      run: () => reconnectOnce(target, frame),
      check: () => {
        reconnectOnce(target, frame);
        recentReplyKeys[target.impl.id] = replyKeyCount(target.socket.frames);
        return checkReconnectReply(target.socket.frames, { changed: work.changed });
      },
    };
  });

  const fullFrame = reconnectFrame(0);
  const full = measureOn(targets, FULL_RECONNECT, (target) => ({
    run: () => reconnectOnce(target, fullFrame),
    check: () => {
      reconnectOnce(target, fullFrame);
      return checkReconnectReply(target.socket.frames, { keyCount: work.size });
    },
  }));

  const expectedClock = work.build.length + CHANGED_KEYS;
  const snapshot = measureOn(targets, SNAPSHOT, (target) => ({
    run: () => timeIt(() => target.room.getSnapshot()),
    check: () => {
      const { state, timestamp } = target.room.getSnapshot();
      const keys = Object.keys(state).length;
      if (keys !== work.size) return `getSnapshot() holds ${keys} keys, expected ${work.size}`;
      if (timestamp !== expectedClock)
        return `getSnapshot().timestamp is ${timestamp}, expected ${expectedClock}`;
      return null;
    },
  }));

  for (const target of targets) target.dispose();
  return { heap, buildMs, recent, full, snapshot, recentReplyKeys };
}
