/** Parameters of the storage benchmark, shared by the benchmark and its children. */
import type { BackendId } from './backends.js';

/** Sustained acked writes: closed-loop clients in one room, server in a child process. */
export const THROUGHPUT = {
  clients: 10,
  /** Rounds per backend, in alternating order; the best round is reported (noise only slows a round down). */
  rounds: 2,
  warmupMs: 1_000,
  durationMs: 5_000,
} as const;

/** The 100,000-component room: stall while editing, and load time. */
export const LARGE_ROOM = {
  components: 100_000,
  /** Components per patch frame while building the room. */
  buildFrameComponents: 1_000,
  /** Whole-snapshot saves at most this often (load/save storages, journal folds). */
  saveThrottleMs: 1_000,
  /** Our FileStorage folds its journal into a snapshot past this size (default 8 MiB). */
  fileCompactAfterBytes: 256 * 1024,
  editMs: 4_000,
  editIntervalMs: 2,
  editsPerTick: 2,
  loadReps: 3,
} as const;

export interface LargeRoomResult {
  backend: BackendId;
  buildMs: number;
  flushMs: number;
  edits: number;
  windowMs: number;
  stallMaxMs: number;
  stallP99Ms: number;
  stallMeanMs: number;
  /** The longest gap of the 1 ms sampler timer, and the main thread's run and run-queue wait time in it. */
  sampledMaxGapMs: number;
  runOfMaxGapMs: number;
  waitOfMaxGapMs: number;
  /** Longest stall without the time the main thread waited for a CPU (see StallSampler). */
  ownStallMs: number;
  stallSource: 'schedstat' | 'cpuUsage';
  /** Longest single GC pause in the window. */
  maxGcMs: number;
  /** Whole-snapshot saves (load/save storages, journal folds) in the window. */
  saves: number;
  maxSaveCallMs: number;
  commits: number;
  maxCommitCallMs: number;
  maxCommitMs: number;
  closeMs: number;
  loadMs: number[];
  /** The part of each load spent in `storage.load()` (the rest is the room building its document). */
  storageLoadMs: number[];
  loadedComponents: number | null;
}
