import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoomSnapshot } from '../../document/room-snapshot.js';
import { snapshotComponents } from '../component-rows.js';
import type { HistoryPage, HistoryRetention, HistoryWrite, RoomHistory } from '../history.js';
import { HistoryLog, resolveHistoryRetention, retentionKeeps } from '../history-log.js';
import type { CommitBatch, IncrementalStorage, SnapshotReason, StoredRoom } from '../storage.js';
import { journalWrites, readHistoryFile, writeHistoryFile } from './history-file.js';
import { replayJournal } from './journal.js';
import { foldJournalSegment } from './journal-fold.js';
import {
  fileExists,
  parseSnapshot,
  type RoomFiles,
  readIfExists,
  syncDirectory,
  writeFileAtomically,
} from './journal-segments.js';
import { legacyRoomFileName, roomFileName } from './room-file-name.js';

/** Options of {@link FileStorage}. */
export interface FileStorageOptions {
  /** Directory for storing snapshots (created when missing). */
  dir: string;
  /** Room identifier (becomes the file name, safely encoded). */
  roomId: string;
  /** Fold the journal into the snapshot once it grows past this many bytes. Default 8 MiB. */
  compactAfterBytes?: number;
  /** History retention (SPEC H1, H3); `maxEntries: 0` or `maxBytes: 0` keeps none. Defaults: 30 days, 100 000 writes, 32 MiB. */
  history?: Partial<HistoryRetention>;
  /** The clock of history times and age retention; `Date.now` by default. */
  now?: () => number;
}

const DEFAULT_COMPACT_AFTER_BYTES = 8 * 1024 * 1024;
const FOLD_RETRY_FIRST_DELAY_MS = 1_000;
const FOLD_RETRY_MAX_DELAY_MS = 60_000;

/**
 * File-based persistence: `<room>.json` holds a JSON snapshot (the seed's
 * format, tombstones included) and `<room>.journal` the writes committed since,
 * one JSON line per batch, each fsynced before its acks are released (SPEC P2).
 *
 * The storage folds its journal into the snapshot by itself, off the main
 * thread: once the journal passes `compactAfterBytes`, and when the room closes
 * after a flush, the journal is renamed to `<room>.journal.folding` (new commits
 * go to a fresh journal) and a worker thread replays that segment over the
 * snapshot, replaces the snapshot atomically and deletes the segment. The room
 * never builds snapshots for it. Snapshot, segment and journal, replayed in that
 * order, hold every committed batch at every moment, so a crash mid-fold loses
 * nothing.
 *
 * A file that exists but cannot be read or parsed makes `load` throw (SPEC P3);
 * a torn last journal line (a crash mid-append, never acked) is dropped.
 *
 * @example
 * ```ts
 * const storage = new FileStorage({ dir: './data', roomId: 'my-room' });
 * const room = new Room({ storage });
 * ```
 */
export class FileStorage implements IncrementalStorage, RoomHistory {
  private readonly files: RoomFiles;
  /** The same files under the naming used before SPEC B9, migrated on load. */
  private readonly legacyFiles: RoomFiles;
  private readonly compactAfterBytes: number;
  /** Journal operations (appends, rotation, closing), one at a time in call order. */
  private journalQueue: Promise<unknown> = Promise.resolve();
  /** Writers of the snapshot file (folds and saves), one at a time in call order. */
  private snapshotQueue: Promise<unknown> = Promise.resolve();
  private journal: FileHandle | null = null;
  private journalBytes = 0;
  /** Length of the journal's valid prefix when a torn tail was found on load. */
  private truncateJournalTo: number | null = null;
  private backgroundFold: Promise<void> | null = null;
  private foldFailures = 0;
  private foldRetryAt = 0;
  private closing = false;
  /** Set when the room closes after a flush: `close()` then folds everything. */
  private foldOnClose = false;
  /**
   * The room's history in memory (SPEC H1): loaded from `<room>.history` and
   * the journal lines' `writes`, written back to `<room>.history` at each fold.
   */
  private readonly log: HistoryLog;
  /** The stored room clock: the loaded one, then the last commit's. */
  private clock = 0;

  constructor(options: FileStorageOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir === '') {
      throw new TypeError('FileStorage needs a dir');
    }
    if (typeof options.roomId !== 'string' || options.roomId === '') {
      throw new TypeError('FileStorage needs a non-empty roomId');
    }
    const compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    if (!Number.isFinite(compactAfterBytes) || compactAfterBytes < 0) {
      throw new RangeError('compactAfterBytes must be a non-negative number');
    }
    this.compactAfterBytes = compactAfterBytes;
    this.log = new HistoryLog(resolveHistoryRetention(options.history), options.now ?? Date.now);
    this.files = roomFiles(options.dir, options.roomId, roomFileName);
    this.legacyFiles = roomFiles(options.dir, options.roomId, legacyRoomFileName);
  }

  /**
   * Removes every file of a room: journal, segment, then snapshot, so that an
   * interrupted removal leaves an older state of the room, never later writes
   * without the snapshot they apply to. Close the room first.
   */
  static async deleteRoom(dir: string, roomId: string): Promise<void> {
    const { files, legacyFiles } = new FileStorage({ dir, roomId });
    for (const { journal, segment, snapshot, history } of [legacyFiles, files]) {
      for (const path of [journal, segment, snapshot, history]) if (path) await rm(path, { force: true });
    }
  }

  async load(): Promise<RoomSnapshot | null> {
    this.closing = false;
    this.foldOnClose = false;
    await this.migrateLegacyFiles();
    const { segment, journal } = this.files;
    const segmentText = await readIfExists(segment);
    const journalText = await readIfExists(journal);
    const replayed = await this.readLive(segmentText, journalText);
    if (journalText !== null) {
      this.journalBytes = replayed.validBytes;
      if (replayed.validBytes < Buffer.byteLength(journalText)) this.truncateJournalTo = replayed.validBytes;
    }
    this.clock = replayed.snapshot?.timestamp ?? 0;
    const writes = await readHistoryFile(this.files.history as string);
    writes.push(...journalWrites(segmentText), ...journalWrites(journalText));
    this.log.reset(dedupeByClock(writes), this.clock);
    return replayed.snapshot;
  }

  /** The stored room: the snapshot, then a segment left by a crash mid-fold, then the journal. */
  private async readLive(
    segmentText: string | null,
    journalText: string | null,
  ): Promise<{ snapshot: RoomSnapshot | null; validBytes: number }> {
    const { snapshot: snapshotPath, segment, journal } = this.files;
    let snapshot = parseSnapshot(await readIfExists(snapshotPath), snapshotPath);
    if (segmentText !== null) snapshot = replayJournal(snapshot, segmentText, segment).snapshot;
    if (journalText === null) return { snapshot, validBytes: 0 };
    return replayJournal(snapshot, journalText, journal);
  }

  /** Appends one batch to the journal and fsyncs it; starts a fold in the background when the journal is large. */
  commit(batch: CommitBatch): Promise<void> {
    const time = this.log.now();
    // The batch's history rides in its journal line: one append, one fsync (SPEC H1).
    const writes = this.keepsHistory() ? batch.writes?.map((write) => ({ ...write, time })) : undefined;
    const record = writes
      ? { timestamp: batch.timestamp, components: batch.components, writes }
      : { timestamp: batch.timestamp, components: batch.components };
    const line = `${JSON.stringify(record)}\n`;
    return this.enqueueJournal(async () => {
      const before = this.clock;
      // In the log before the line can be read, so readAt never sees a write it cannot undo.
      if (writes) this.log.append(writes);
      try {
        const journal = await this.openJournal();
        await journal.write(line);
        await journal.datasync();
      } catch (error) {
        this.log.dropAfter(before);
        throw error;
      }
      this.clock = Math.max(this.clock, batch.timestamp);
      this.log.compact(this.clock);
      this.journalBytes += Buffer.byteLength(line);
      this.foldIfLarge();
    });
  }

  keepsHistory(): boolean {
    return retentionKeeps(this.log.retention);
  }

  async listHistory(options: { before?: number; limit: number }): Promise<HistoryPage> {
    return this.log.list(options);
  }

  async horizon(): Promise<number> {
    return this.log.horizon(this.clock);
  }

  /**
   * The state at `clock`: undone from the caller's `live` state when it is
   * not ahead of what is stored (the log in memory holds every stored write),
   * else from the files, read between folds (in the snapshot queue).
   */
  readAt(clock: number, live?: StoredRoom): Promise<StoredRoom> {
    if (live && live.timestamp <= this.clock) {
      try {
        return Promise.resolve(this.log.readAt(live, clock));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.enqueueSnapshot(async () => {
      const segmentText = await readIfExists(this.files.segment);
      const journalText = await readIfExists(this.files.journal);
      const { snapshot } = await this.readLive(segmentText, journalText);
      const live: StoredRoom = {
        timestamp: snapshot?.timestamp ?? 0,
        components: snapshot ? snapshotComponents(snapshot) : [],
      };
      return this.log.readAt(live, clock);
    });
  }

  /** Always false, for every reason: the storage folds its journal itself. */
  wantsSnapshot(_reason: SnapshotReason): boolean {
    return false;
  }

  /** The room closes after a flush: `close()` will fold everything into the snapshot. */
  closingAfterFlush(): void {
    this.foldOnClose = true;
  }

  /**
   * The seed's whole-snapshot save: replaces the snapshot atomically. Journal
   * lines it covers stay until the next fold, which skips them (they are not
   * newer than the snapshot's clock); later commits are kept.
   */
  save(snapshot: RoomSnapshot): Promise<void> {
    const text = JSON.stringify(snapshot);
    return this.enqueueSnapshot(async () => {
      // A whole snapshot replaces the room: the history before it does not lead to it.
      this.log.reset([], snapshot.timestamp);
      await rm(this.files.history as string, { force: true });
      await mkdir(this.files.dir, { recursive: true });
      await writeFileAtomically(this.files.dir, this.files.snapshot, text);
    });
  }

  /**
   * Closes the journal. When the room closed after a flush, first folds
   * everything into the snapshot, so that the `.json` file alone holds the room;
   * otherwise only waits for a fold in progress.
   */
  async close(): Promise<void> {
    this.closing = true;
    try {
      if (this.foldOnClose) await this.enqueueSnapshot(() => this.foldPending());
      else await this.snapshotQueue.catch(() => {});
    } finally {
      await this.enqueueJournal(() => this.closeJournal());
    }
  }

  /**
   * Renames files written under the old naming (SPEC B9) to the new names, one
   * file at a time and only where the new one does not exist yet, so that a
   * crash mid-migration is finished by the next load. Ids whose old and new
   * names agree (lower-case letters, digits, `-`) cost nothing.
   */
  private async migrateLegacyFiles(): Promise<void> {
    const keys = ['snapshot', 'segment', 'journal'] as const;
    let moved = false;
    for (const key of keys) {
      const from = this.legacyFiles[key];
      const to = this.files[key];
      if (from === to || (await fileExists(to)) || !(await fileExists(from))) continue;
      await rename(from, to);
      moved = true;
    }
    if (moved) await syncDirectory(this.files.dir);
  }

  private foldIfLarge(): void {
    if (this.backgroundFold || this.closing || this.journalBytes <= this.compactAfterBytes) return;
    if (performance.now() < this.foldRetryAt) return;
    this.backgroundFold = this.enqueueSnapshot(() => this.foldPending()).then(
      () => {
        this.foldFailures = 0;
        this.backgroundFold = null;
        // Commits went on during the fold; the new journal may be large already.
        this.foldIfLarge();
      },
      () => {
        // Nothing is lost (the segment stays and is folded first next time); retry later.
        this.foldFailures++;
        const delay = FOLD_RETRY_FIRST_DELAY_MS * 2 ** Math.min(this.foldFailures - 1, 10);
        this.foldRetryAt = performance.now() + Math.min(delay, FOLD_RETRY_MAX_DELAY_MS);
        this.backgroundFold = null;
      },
    );
  }

  /** Folds a segment left by a crash or a failed fold, then rotates the journal and folds it. */
  private async foldPending(): Promise<void> {
    if (await fileExists(this.files.segment)) await this.foldSegmentWithHistory();
    if (await this.enqueueJournal(() => this.rotateJournal())) await this.foldSegmentWithHistory();
  }

  /**
   * Writes the history file before the segment holding some of its writes is
   * folded away (so no write leaves history), then folds, dropping
   * tombstones at or before the horizon (SPEC H3).
   */
  private async foldSegmentWithHistory(): Promise<void> {
    await mkdir(this.files.dir, { recursive: true });
    await writeHistoryFile(this.files.dir, this.files.history as string, this.log.all());
    // With history off, tombstones are kept (SPEC D9).
    const horizon = this.keepsHistory() ? { tombstoneHorizon: this.log.horizon(this.clock) } : {};
    await foldJournalSegment({ ...this.files, ...horizon });
  }

  /**
   * Renames the journal to the segment; the next commit starts a fresh journal.
   * Only called while no segment exists. False when there is no journal.
   */
  private async rotateJournal(): Promise<boolean> {
    await this.closeJournal();
    try {
      await rename(this.files.journal, this.files.segment);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    // A torn tail moved with the segment, whose replay ignores it.
    this.truncateJournalTo = null;
    this.journalBytes = 0;
    await syncDirectory(this.files.dir);
    return true;
  }

  private async closeJournal(): Promise<void> {
    const journal = this.journal;
    this.journal = null;
    await journal?.close();
  }

  private async openJournal(): Promise<FileHandle> {
    if (this.journal) return this.journal;
    await mkdir(this.files.dir, { recursive: true });
    if (this.truncateJournalTo !== null) {
      // Drop a torn tail left by a crash before appending after it.
      const handle = await open(this.files.journal, 'r+');
      try {
        await handle.truncate(this.truncateJournalTo);
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.truncateJournalTo = null;
    }
    this.journal = await open(this.files.journal, 'a');
    await syncDirectory(this.files.dir);
    return this.journal;
  }

  private enqueueJournal<T>(step: () => Promise<T>): Promise<T> {
    // A failure does not block later operations.
    const next = this.journalQueue.catch(() => {}).then(step);
    this.journalQueue = next;
    return next;
  }

  private enqueueSnapshot<T>(step: () => Promise<T>): Promise<T> {
    const next = this.snapshotQueue.catch(() => {}).then(step);
    this.snapshotQueue = next;
    return next;
  }
}

/** The paths of a room's files under one naming. */
function roomFiles(
  dir: string,
  roomId: string,
  name: (roomId: string, extension: string) => string,
): RoomFiles {
  const journal = join(dir, name(roomId, '.journal'));
  return {
    dir,
    snapshot: join(dir, name(roomId, '.json')),
    segment: `${journal}.folding`,
    journal,
    history: join(dir, name(roomId, '.history')),
  };
}

/** Writes sorted by clock, the later copy of a clock kept (a history file and a journal may overlap). */
function dedupeByClock(writes: HistoryWrite[]): HistoryWrite[] {
  const byClock = new Map<number, HistoryWrite>();
  for (const write of writes) byClock.set(write.clock, write);
  return Array.from(byClock.values()).sort((a, b) => a.clock - b.clock);
}
