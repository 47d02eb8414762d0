import { access, open, readFile, rename, unlink } from 'node:fs/promises';
import type { RoomSnapshot } from '../../document/room-snapshot.js';
import { StorageCorruptError } from '../storage-corrupt-error.js';
import { replayJournal } from './journal.js';

/**
 * The files of one room of a FileStorage. At every moment, the snapshot, then
 * the segment (when present), then the journal, replayed in that order, hold
 * every committed batch.
 */
export interface RoomFiles {
  dir: string;
  /** `<room>.json`: the folded snapshot. */
  snapshot: string;
  /** `<room>.journal.folding`: a rotated journal being folded (or left by a crash mid-fold). */
  segment: string;
  /** `<room>.journal`: the journal commits append to. */
  journal: string;
  /** `<room>.history`: the room's history up to the last fold (SPEC H1); later writes are in the journal lines. */
  history?: string;
  /** A fold drops tombstones deleted at or before this clock (SPEC H3); none when undefined. */
  tombstoneHorizon?: number;
}

/** The file's text, or `null` when it does not exist; other failures throw {@link StorageCorruptError}. */
export async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StorageCorruptError(`cannot read ${path}`, error);
  }
}

/** True when `path` exists. */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Parses a snapshot file's text; `null` text (no file) gives `null`. */
export function parseSnapshot(text: string | null, path: string): RoomSnapshot | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as RoomSnapshot;
  } catch (error) {
    throw new StorageCorruptError(`${path} is not valid JSON`, error);
  }
}

/** Makes renames, creations and deletions in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Replaces `path` with `text` atomically: temporary file, fsync, rename, fsync of the directory. */
export async function writeFileAtomically(dir: string, path: string, text: string): Promise<void> {
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
  await syncDirectory(dir);
}

/**
 * Folds the segment into the snapshot: replays it over the snapshot, replaces
 * the snapshot atomically, then deletes the segment. A crash at any point
 * leaves either the old snapshot and the segment, or the new snapshot (and
 * perhaps the segment, whose lines it already covers). Runs in a worker for
 * large rooms, so it must not depend on anything but the files.
 */
export async function foldSegment(files: RoomFiles): Promise<void> {
  const segmentText = await readIfExists(files.segment);
  if (segmentText === null) return;
  const base = parseSnapshot(await readIfExists(files.snapshot), files.snapshot);
  const folded = replayJournal(base, segmentText, files.segment).snapshot;
  if (folded !== null && folded !== base) {
    if (files.tombstoneHorizon !== undefined) dropTombstones(folded, files.tombstoneHorizon);
    await writeFileAtomically(files.dir, files.snapshot, JSON.stringify(folded));
  }
  await unlink(files.segment);
  await syncDirectory(files.dir);
}

/** Removes from a snapshot the tombstones deleted at or before `horizon` (SPEC H3). */
function dropTombstones(snapshot: RoomSnapshot, horizon: number): void {
  for (const key of Object.keys(snapshot.state)) {
    const data = snapshot.state[key];
    const deletedAt = snapshot.timestamps[key]?._exists;
    if (data?._exists === false && deletedAt !== undefined && deletedAt <= horizon) {
      delete snapshot.state[key];
      delete snapshot.timestamps[key];
    }
  }
}
