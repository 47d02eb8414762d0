import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { startWorker } from '../start-worker.js';
import { foldSegment, type RoomFiles } from './journal-segments.js';

/**
 * Below this many bytes of snapshot and segment, folding on the main thread
 * takes well under a millisecond, less than starting a worker.
 */
const INLINE_FOLD_BYTES = 64 * 1024;

/** Folds run in parallel up to this many workers; more rooms (e.g. on closeAll) wait their turn. */
const MAX_FOLD_WORKERS = Math.max(1, Math.min(4, availableParallelism() - 1));

let runningWorkers = 0;
const waitingForWorker: Array<() => void> = [];

/**
 * Folds the room's segment into its snapshot ({@link foldSegment}), in a
 * worker thread unless the files are small.
 */
export async function foldJournalSegment(files: RoomFiles): Promise<void> {
  const bytes = (await sizeOf(files.snapshot)) + (await sizeOf(files.segment));
  if (bytes < INLINE_FOLD_BYTES) return foldSegment(files);
  while (runningWorkers >= MAX_FOLD_WORKERS) {
    await new Promise<void>((resolve) => waitingForWorker.push(resolve));
  }
  runningWorkers++;
  try {
    await foldInWorker(files);
  } finally {
    runningWorkers--;
    waitingForWorker.shift()?.();
  }
}

function foldInWorker(files: RoomFiles): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: unknown = null;
    const worker = startWorker(import.meta.url, 'journal-fold-worker', files);
    worker.once('error', (error) => {
      failure = error;
    });
    worker.once('exit', (code) => {
      if (failure === null && code === 0) resolve();
      else reject(new Error(`folding ${files.segment} failed`, { cause: failure ?? `exit code ${code}` }));
    });
  });
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
