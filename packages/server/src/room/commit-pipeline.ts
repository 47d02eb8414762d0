import type { StoredComponent } from '../document/stored-component.js';
import type { HistoryWrite } from '../storage/history.js';
import type { CommitBatch, IncrementalStorage } from '../storage/storage.js';
import type { Logger } from './logger.js';
import type { DurabilityGate } from './outbox.js';

const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 10_000;

/** Counters of one room's commits, for metrics and tests. */
export interface CommitStats {
  commits: number;
  commitFailures: number;
  /** Frames currently held until their writes are durable. */
  heldFrames: number;
}

/** Observes commit durations, for metrics. */
export type CommitObserver = (event: { durationMs: number; components: number; ok: boolean }) => void;

interface OpenBatch {
  keys: Set<string>;
  /** The batch's writes for history, in clock order (SPEC H1); empty when the room keeps none. */
  writes: HistoryWrite[];
  /** Absolute index of the first outgoing frame queued after this batch's first write. */
  firstFrame: number;
}

interface SealedBatch extends CommitBatch {
  firstFrame: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The durable write path (ARCHITECTURE "The write path", SPEC O4, P2, P4):
 *
 * 1. writes of the current event-loop iteration are staged by key;
 * 2. at the end of the iteration (`setImmediate`) they are sealed into one batch
 *    holding the current state of every staged key;
 * 3. batches are committed one at a time, in order;
 * 4. outgoing frames queued after a batch's first write are held and released,
 *    in the order they were queued, once that batch is committed.
 *
 * Frames never overtake each other, so acks still precede later broadcasts
 * (O2) and broadcasts stay in clock order (O3). A failed commit is logged,
 * counted and retried with backoff; its frames wait (P4).
 */
export class CommitPipeline implements DurabilityGate {
  private open: OpenBatch | null = null;
  private readonly sealed: SealedBatch[] = [];
  private held: Array<() => void> = [];
  /** Absolute index of `held[0]`. */
  private heldBase = 0;
  private committing = false;
  private releasing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private consecutiveFailures = 0;
  private stopped = false;
  private idleWaiters: Waiter[] = [];
  private readonly counters = { commits: 0, commitFailures: 0 };

  constructor(
    private readonly storage: IncrementalStorage,
    private readonly readComponents: (keys: Iterable<string>) => StoredComponent[],
    private readonly currentClock: () => number,
    private readonly logger: Logger,
    private readonly logContext: object,
    private readonly observe?: CommitObserver,
  ) {}

  get stats(): CommitStats {
    return { ...this.counters, heldFrames: this.held.length };
  }

  /** True when writes are staged or being committed. */
  get busy(): boolean {
    return this.open !== null || this.sealed.length > 0;
  }

  /** Records that `key` was written in this iteration. */
  stage(key: string): void {
    if (this.stopped) return;
    if (!this.open) {
      this.open = { keys: new Set(), writes: [], firstFrame: this.heldBase + this.held.length };
      setImmediate(() => this.seal());
    }
    this.open.keys.add(key);
  }

  /** Records one write for history; its keys were staged just before, so the batch is open. */
  recordWrite(write: HistoryWrite): void {
    if (this.stopped || !this.open) return;
    this.open.writes.push(write);
  }

  /** True while a frame sent now could overtake a write that is not yet durable, or an earlier held frame. */
  mustHold(): boolean {
    return this.busy || this.held.length > 0 || this.releasing;
  }

  /** Runs `send` once every write staged before it is durable, after the frames held before it. */
  hold(send: () => void): void {
    this.held.push(send);
  }

  /** Resolves once everything staged so far is committed; rejects if a commit fails meanwhile. */
  flush(): Promise<void> {
    this.seal();
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Stops committing and drops held frames (the room is closed). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.held = [];
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    const error = new Error('room closed before its writes were committed');
    for (const waiter of waiters) waiter.reject(error);
  }

  private seal(): void {
    const batch = this.open;
    if (!batch) return;
    this.open = null;
    this.sealed.push({
      timestamp: this.currentClock(),
      components: this.readComponents(batch.keys),
      writes: batch.writes,
      firstFrame: batch.firstFrame,
    });
    this.pump();
  }

  private pump(): void {
    if (this.committing || this.stopped || this.retryTimer) return;
    // Batches sealed while a commit was in flight go out together: one fsync
    // or round trip for all of them instead of one each (group commit).
    if (this.sealed.length > 1) this.sealed.splice(0, this.sealed.length, mergeBatches(this.sealed));
    const head = this.sealed[0];
    if (!head) return;
    this.committing = true;
    const started = performance.now();
    let pending: Promise<void>;
    try {
      const batch: CommitBatch = { timestamp: head.timestamp, components: head.components };
      if (head.writes && head.writes.length > 0) batch.writes = head.writes;
      pending = Promise.resolve(this.storage.commit(batch));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      () => {
        this.committing = false;
        this.counters.commits++;
        this.consecutiveFailures = 0;
        this.observe?.({
          durationMs: performance.now() - started,
          components: head.components.length,
          ok: true,
        });
        this.sealed.shift();
        this.releaseHeld();
        this.pump();
      },
      (error: unknown) => {
        this.committing = false;
        this.counters.commitFailures++;
        this.consecutiveFailures++;
        this.observe?.({
          durationMs: performance.now() - started,
          components: head.components.length,
          ok: false,
        });
        this.logger.error(
          { ...this.logContext, err: error, failures: this.consecutiveFailures },
          'commit failed; acks are held and the commit will be retried',
        );
        this.rejectWaiters(error);
        if (this.stopped) return;
        const delay = Math.min(
          MAX_RETRY_DELAY_MS,
          FIRST_RETRY_DELAY_MS * 2 ** Math.min(this.consecutiveFailures - 1, 10),
        );
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, delay);
        this.retryTimer.unref();
      },
    );
  }

  /** Sends held frames that no uncommitted write precedes. */
  private releaseHeld(): void {
    if (this.releasing) return;
    // A send may queue more frames (a failed socket broadcasts a new client
    // count); they are appended to `held` so they cannot overtake this release.
    this.releasing = true;
    try {
      for (;;) {
        const limit = this.sealed[0]?.firstFrame ?? this.open?.firstFrame ?? Number.POSITIVE_INFINITY;
        const count = Math.min(this.held.length, limit - this.heldBase);
        if (count <= 0) break;
        const ready = this.held.splice(0, count);
        this.heldBase += count;
        for (const send of ready) send();
      }
    } finally {
      this.releasing = false;
    }
    if (!this.busy) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private rejectWaiters(error: unknown): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}

/**
 * One batch equivalent to `batches` committed in order: each key keeps its
 * latest state, the clock is the last one, and the frames held for the first
 * batch are the first to release.
 */
function mergeBatches(batches: readonly SealedBatch[]): SealedBatch {
  const latest = new Map<string, StoredComponent>();
  for (const batch of batches) {
    for (const component of batch.components) latest.set(component.key, component);
  }
  const last = batches[batches.length - 1] as SealedBatch;
  const first = batches[0] as SealedBatch;
  const writes = batches.flatMap((batch) => batch.writes ?? []);
  return {
    timestamp: last.timestamp,
    components: Array.from(latest.values()),
    writes,
    firstFrame: first.firstFrame,
  };
}
