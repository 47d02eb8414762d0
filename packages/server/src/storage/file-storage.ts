import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { Storage } from '../room/storage.js';
import { roomFileName } from './room-file-name.js';
import { StorageCorruptError } from './storage-corrupt-error.js';

/** Options of {@link FileStorage}. */
export interface FileStorageOptions {
  /** Directory for storing snapshots (created when missing). */
  dir: string;
  /** Room identifier (becomes the file name, safely encoded). */
  roomId: string;
}

/**
 * File-based persistence: one JSON snapshot file per room, replaced atomically
 * (write a temporary file, fsync, rename, fsync the directory), so a crash
 * leaves either the old or the new snapshot, never a torn one. A file that
 * exists but cannot be read or parsed makes `load` throw (SPEC P3).
 *
 * @example
 * ```ts
 * const storage = new FileStorage({ dir: './data', roomId: 'my-room' });
 * ```
 */
export class FileStorage implements Storage {
  private readonly dir: string;
  private readonly filePath: string;
  private writeChain: Promise<void> = Promise.resolve();

  constructor(options: FileStorageOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir === '') {
      throw new TypeError('FileStorage needs a dir');
    }
    if (typeof options.roomId !== 'string' || options.roomId === '') {
      throw new TypeError('FileStorage needs a non-empty roomId');
    }
    this.dir = options.dir;
    this.filePath = join(options.dir, roomFileName(options.roomId, '.json'));
  }

  async load(): Promise<RoomSnapshot | null> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StorageCorruptError(`cannot read ${this.filePath}`, error);
    }
    try {
      return JSON.parse(text) as RoomSnapshot;
    } catch (error) {
      throw new StorageCorruptError(`${this.filePath} is not valid JSON`, error);
    }
  }

  save(snapshot: RoomSnapshot): Promise<void> {
    const text = JSON.stringify(snapshot);
    // Saves are serialised so an older snapshot never overwrites a newer one.
    const next = this.writeChain.catch(() => {}).then(() => this.writeAtomically(text));
    this.writeChain = next;
    return next;
  }

  private async writeAtomically(text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temporary = `${this.filePath}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, this.filePath);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      throw error;
    }
    await syncDirectory(this.dir);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
