import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoomSnapshot } from '../../document/room-snapshot.js';
import type { CommitBatch, IncrementalStorage, SnapshotReason } from '../storage.js';
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
export class FileStorage implements IncrementalStorage {
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
    for (const { journal, segment, snapshot } of [legacyFiles, files]) {
      for (const path of [journal, segment, snapshot]) await rm(path, { force: true });
    }
  }

  async load(): Promise<RoomSnapshot | null> {
    this.closing = false;
    this.foldOnClose = false;
    await this.migrateLegacyFiles();
    const { snapshot: snapshotPath, segment, journal } = this.files;
    let snapshot = parseSnapshot(await readIfExists(snapshotPath), snapshotPath);
    // A segment is left over when the process died mid-fold; its batches come before the journal's.
    const segmentText = await readIfExists(segment);
    if (segmentText !== null) snapshot = replayJournal(snapshot, segmentText, segment).snapshot;
    const journalText = await readIfExists(journal);
    if (journalText === null) return snapshot;
    const replayed = replayJournal(snapshot, journalText, journal);
    this.journalBytes = replayed.validBytes;
    if (replayed.validBytes < Buffer.byteLength(journalText)) this.truncateJournalTo = replayed.validBytes;
    return replayed.snapshot;
  }

  /** Appends one batch to the journal and fsyncs it; starts a fold in the background when the journal is large. */
  commit(batch: CommitBatch): Promise<void> {
    const line = `${JSON.stringify({ timestamp: batch.timestamp, components: batch.components })}\n`;
    return this.enqueueJournal(async () => {
      const journal = await this.openJournal();
      await journal.write(line);
      await journal.datasync();
      this.journalBytes += Buffer.byteLength(line);
      this.foldIfLarge();
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
    if (await fileExists(this.files.segment)) await foldJournalSegment(this.files);
    if (await this.enqueueJournal(() => this.rotateJournal())) await foldJournalSegment(this.files);
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
  return { dir, snapshot: join(dir, name(roomId, '.json')), segment: `${journal}.folding`, journal };
}
