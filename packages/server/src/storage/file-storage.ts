import { type FileHandle, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { CommitBatch, IncrementalStorage, SnapshotReason } from '../room/storage.js';
import { replayJournal } from './journal.js';
import { roomFileName } from './room-file-name.js';
import { StorageCorruptError } from './storage-corrupt-error.js';

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

/**
 * File-based persistence: `<room>.json` holds a JSON snapshot (the seed's
 * format, tombstones included) and `<room>.journal` the writes committed since,
 * one JSON line per batch, each fsynced before its acks are released (SPEC P2).
 * The journal is folded into the snapshot when it grows large and when the room
 * closes; the snapshot is replaced atomically (temporary file, fsync, rename).
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
  private readonly dir: string;
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private readonly compactAfterBytes: number;
  private chain: Promise<void> = Promise.resolve();
  private journal: FileHandle | null = null;
  private journalBytes = 0;
  /** Length of the journal's valid prefix when a torn tail was found on load. */
  private truncateJournalTo: number | null = null;
  private folding = false;

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
    this.dir = options.dir;
    this.compactAfterBytes = compactAfterBytes;
    this.snapshotPath = join(options.dir, roomFileName(options.roomId, '.json'));
    this.journalPath = join(options.dir, roomFileName(options.roomId, '.journal'));
  }

  async load(): Promise<RoomSnapshot | null> {
    const snapshotText = await readIfExists(this.snapshotPath);
    let snapshot: RoomSnapshot | null = null;
    if (snapshotText !== null) {
      try {
        snapshot = JSON.parse(snapshotText) as RoomSnapshot;
      } catch (error) {
        throw new StorageCorruptError(`${this.snapshotPath} is not valid JSON`, error);
      }
    }
    const journalText = await readIfExists(this.journalPath);
    if (journalText === null) return snapshot;
    const replayed = replayJournal(snapshot, journalText, this.journalPath);
    this.journalBytes = replayed.validBytes;
    if (replayed.validBytes < Buffer.byteLength(journalText)) this.truncateJournalTo = replayed.validBytes;
    return replayed.snapshot;
  }

  /** Appends one batch to the journal and fsyncs it. */
  commit(batch: CommitBatch): Promise<void> {
    const line = `${JSON.stringify({ timestamp: batch.timestamp, components: batch.components })}\n`;
    return this.enqueue(async () => {
      const journal = await this.openJournal();
      await journal.write(line);
      await journal.datasync();
      this.journalBytes += Buffer.byteLength(line);
    });
  }

  /** Asks for a snapshot when the journal is large, and on close when it holds anything. */
  wantsSnapshot(reason: SnapshotReason): boolean {
    if (this.folding) return false;
    return reason === 'close' ? this.journalBytes > 0 : this.journalBytes > this.compactAfterBytes;
  }

  /**
   * Replaces the snapshot atomically, then drops journal lines it covers.
   * Also the seed's whole-snapshot save.
   */
  save(snapshot: RoomSnapshot): Promise<void> {
    const text = JSON.stringify(snapshot);
    this.folding = true;
    const done = this.enqueue(async () => {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomically(this.dir, this.snapshotPath, text);
      await this.dropJournalUpTo(snapshot.timestamp);
    });
    return done.finally(() => {
      this.folding = false;
    });
  }

  /** Closes the journal file. */
  close(): Promise<void> {
    return this.enqueue(async () => {
      await this.journal?.close();
      this.journal = null;
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    // One operation at a time, in call order; a failure does not block later ones.
    const next = this.chain.catch(() => {}).then(step);
    this.chain = next;
    return next;
  }

  private async openJournal(): Promise<FileHandle> {
    if (this.journal) return this.journal;
    await mkdir(this.dir, { recursive: true });
    if (this.truncateJournalTo !== null) {
      // Drop a torn tail left by a crash before appending after it.
      const handle = await open(this.journalPath, 'r+');
      try {
        await handle.truncate(this.truncateJournalTo);
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.truncateJournalTo = null;
    }
    this.journal = await open(this.journalPath, 'a');
    return this.journal;
  }

  private async dropJournalUpTo(timestamp: number): Promise<void> {
    const text = await readIfExists(this.journalPath);
    await this.journal?.close();
    this.journal = null;
    if (text === null) return;
    const kept = text
      .split('\n')
      .filter((line) => line !== '' && lineTimestamp(line) > timestamp)
      .map((line) => `${line}\n`)
      .join('');
    if (kept === '') {
      await unlink(this.journalPath);
    } else {
      await writeFileAtomically(this.dir, this.journalPath, kept);
    }
    this.journalBytes = Buffer.byteLength(kept);
    this.truncateJournalTo = null;
  }
}

function lineTimestamp(line: string): number {
  try {
    const parsed = JSON.parse(line) as { timestamp?: unknown };
    return typeof parsed.timestamp === 'number' ? parsed.timestamp : Number.POSITIVE_INFINITY;
  } catch {
    // A torn tail: it was never acked, and the snapshot being written covers nothing of it.
    return Number.NEGATIVE_INFINITY;
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StorageCorruptError(`cannot read ${path}`, error);
  }
}

async function writeFileAtomically(dir: string, path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
