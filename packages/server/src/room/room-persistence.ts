import type { Patch } from 'canvas-store-protocol';
import { ClockedDocument } from '../document/clocked-document.js';
import { type HistoryWrite, hasHistory, type RoomHistory } from '../storage/history.js';
import { type IncrementalStorage, isIncrementalStorage, type Storage } from '../storage/storage.js';
import { type CommitObserver, CommitPipeline, type CommitStats } from './commit-pipeline.js';
import type { Logger } from './logger.js';
import type { DurabilityGate } from './outbox.js';
import { patchKeys } from './room-history.js';
import { DEFAULT_SAVE_THROTTLE_MS, type RoomOptions } from './room-options.js';
import { type PersistenceStats, SnapshotPersistence } from './snapshot-persistence.js';

const CLOSE_RETRY_FIRST_DELAY_MS = 500;
const CLOSE_RETRY_MAX_DELAY_MS = 30_000;

/** Everything a room needs to persist itself through one {@link Storage}. */
interface RoomPersistenceOptions {
  storage: Storage;
  document: () => ClockedDocument;
  saveThrottleMs: number;
  logger: Logger;
  logContext: object;
  onCommit: CommitObserver;
}

/** The persistence counters of a room without storage: nothing saved, committed or held. */
export const NO_PERSISTENCE_STATS: Readonly<PersistenceStats & CommitStats> = {
  saves: 0,
  saveFailures: 0,
  commits: 0,
  commitFailures: 0,
  heldFrames: 0,
};

/**
 * How one room's document reaches its storage:
 *
 * - an {@link IncrementalStorage} gets a commit per event-loop iteration, and
 *   outgoing frames wait for the commit of the writes before them (SPEC O4, P2);
 * - a load/save storage gets whole snapshots at most every `saveThrottleMs`,
 *   and frames go out at once (the seed's behaviour);
 * - a journaling incremental storage may also ask for whole snapshots.
 *
 * A failed final save on close is retried in the background until it succeeds (SPEC P4).
 */
export class RoomPersistence {
  private readonly pipeline: CommitPipeline | undefined;
  private readonly snapshots: SnapshotPersistence;
  private readonly incremental: IncrementalStorage | undefined;
  private backgroundSave: Promise<void> = Promise.resolve();
  /** Set by {@link abandon}: a failed final save is not retried any more. */
  private abandoned = false;
  /** Set by the first write: a load after it would replace what was written. */
  private hasWrites = false;
  /** The storage's history, when it keeps one (SPEC H1). */
  readonly history: RoomHistory | undefined;

  constructor(private readonly options: RoomPersistenceOptions) {
    const { storage, logger, logContext } = options;
    this.incremental = isIncrementalStorage(storage) ? storage : undefined;
    this.history = hasHistory(storage) ? storage : undefined;
    this.pipeline = this.incremental
      ? new CommitPipeline(
          this.incremental,
          (keys) => options.document().readComponents(keys),
          () => options.document().clock,
          logger,
          logContext,
          options.onCommit,
        )
      : undefined;
    this.snapshots = new SnapshotPersistence(
      storage,
      () => options.document().toSnapshot({ includeTombstones: true }),
      options.saveThrottleMs,
      logger,
      logContext,
    );
  }

  get stats(): PersistenceStats & CommitStats {
    return {
      ...this.snapshots.stats,
      ...(this.pipeline?.stats ?? { commits: 0, commitFailures: 0, heldFrames: 0 }),
    };
  }

  /**
   * Reads the stored document; null when the storage holds none. A failing
   * storage or a malformed snapshot rejects (SPEC P3), and so does a load
   * that finds the room already written: what it read would replace those writes.
   */
  async load(): Promise<ClockedDocument | null> {
    const beforeUse = () => {
      if (this.hasWrites) throw new Error('Room.load() must be called before the room is first written');
    };
    const { storage } = this.options;
    if (this.incremental?.loadComponents) {
      const stored = await this.incremental.loadComponents();
      if (stored === null || stored === undefined) return null;
      beforeUse();
      return ClockedDocument.fromComponents(stored.timestamp, stored.components);
    }
    const snapshot = await storage.load();
    if (snapshot === null || snapshot === undefined) return null;
    beforeUse();
    return ClockedDocument.fromSnapshot(snapshot);
  }

  /** Receives each written key, to stage it for the next commit; undefined for load/save storages. */
  get stage(): ((key: string) => void) | undefined {
    const pipeline = this.pipeline;
    return pipeline ? (key) => pipeline.stage(key) : undefined;
  }

  /**
   * Receives each write for history, or undefined when the storage keeps
   * none (or has it turned off), so the room skips reading previous states.
   */
  get recordWrite(): ((write: HistoryWrite) => void) | undefined {
    const pipeline = this.pipeline;
    return pipeline && this.history?.keepsHistory() ? (write) => pipeline.recordWrite(write) : undefined;
  }

  /**
   * Applies a write to `document`: stages its keys for the next commit,
   * records it for history with each key's state from before it (SPEC H1),
   * and notes the change. Returns the new clock.
   */
  applyWrite(document: ClockedDocument, documentPatches: Patch[], clientId: string): number {
    const record = this.recordWrite;
    const keys = record ? patchKeys(documentPatches) : undefined;
    // History keeps each key's state from before the write (read before applying it).
    const previous = keys ? document.readComponents(keys) : undefined;
    const timestamp = document.applyPatches(documentPatches, this.stage) as number;
    if (record && keys && previous) record({ clock: timestamp, time: Date.now(), clientId, keys, previous });
    this.written();
    return timestamp;
  }

  /** Notes that the document changed (after its keys were staged). */
  written(): void {
    this.hasWrites = true;
    if (!this.pipeline || this.incremental?.wantsSnapshot?.('write')) this.snapshots.markDirty();
  }

  /**
   * What holds outgoing frames until earlier writes are durable; undefined for
   * load/save storages, whose frames go out at once.
   */
  get gate(): DurabilityGate | undefined {
    return this.pipeline;
  }

  /** Resolves once everything written so far is stored. */
  async flush(): Promise<void> {
    await this.pipeline?.flush();
    await this.snapshots.flush();
  }

  /**
   * Stores everything (folding a journal if the storage wants it) and releases
   * the storage. When that fails, this rejects and saving goes on in the
   * background until it succeeds; {@link whenPersisted} tells when.
   */
  async close(flush: boolean): Promise<void> {
    if (flush) {
      try {
        await this.pipeline?.flush();
        // With every commit done, a journaling storage may want its journal folded now.
        this.incremental?.closingAfterFlush?.();
        if (this.incremental?.wantsSnapshot?.('close')) this.snapshots.markDirty();
        await this.snapshots.flush();
      } catch (error) {
        this.backgroundSave = this.saveUntilStored();
        throw error;
      }
    }
    await this.release();
  }

  /** Resolves once a failed final save has been retried successfully (at once if none failed). */
  whenPersisted(): Promise<void> {
    return this.backgroundSave;
  }

  /** Stops the background retries of a failed final save (see {@link close}). */
  abandon(): void {
    this.abandoned = true;
    // Saves already scheduled (a snapshot retry) stop now; the loop below releases the storage.
    this.pipeline?.stop();
    this.snapshots.stop();
  }

  private async saveUntilStored(): Promise<void> {
    for (let delay = CLOSE_RETRY_FIRST_DELAY_MS; ; delay = Math.min(delay * 2, CLOSE_RETRY_MAX_DELAY_MS)) {
      await new Promise<void>((resolve) => setTimeout(resolve, delay).unref());
      if (this.abandoned) break;
      try {
        await this.flush();
        break;
      } catch {
        // Logged and counted where it failed; try again later.
      }
    }
    await this.release();
  }

  private async release(): Promise<void> {
    this.pipeline?.stop();
    this.snapshots.stop();
    await this.incremental?.close?.().catch((error: unknown) => {
      this.options.logger.warn({ ...this.options.logContext, err: error }, 'storage close failed');
    });
  }
}

/**
 * The persistence of a room built from its options: `undefined` for a room
 * without storage. Throws for an invalid `saveThrottleMs`.
 */
export function openRoomPersistence(
  options: RoomOptions,
  document: () => ClockedDocument,
  logger: Logger,
  logContext: Record<string, unknown>,
  onCommit: CommitObserver,
): RoomPersistence | undefined {
  const storage = options.storage ?? options.createStorage?.();
  const saveThrottleMs = options.saveThrottleMs ?? DEFAULT_SAVE_THROTTLE_MS;
  if (!Number.isFinite(saveThrottleMs) || saveThrottleMs < 0) {
    throw new RangeError(`saveThrottleMs must be a non-negative number, got ${saveThrottleMs}`);
  }
  return storage
    ? new RoomPersistence({ storage, document, saveThrottleMs, logger, logContext, onCommit })
    : undefined;
}
