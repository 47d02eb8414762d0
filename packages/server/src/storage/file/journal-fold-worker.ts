/**
 * Worker thread entry: folds one journal segment into its room's snapshot
 * (see {@link foldSegment}), so that parsing and serialising a large room never
 * runs on the main thread. A failure rejects the top-level await, which the
 * parent receives as the worker's `error` event.
 */
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { foldSegment, type RoomFiles } from './journal-segments.js';

lowerThreadPriority();
await foldSegment(workerData as RoomFiles);

/**
 * Folding is background work: on a busy machine it must not take CPU time
 * from the main thread, whose garbage collector waits for its helper threads.
 * On Linux, `setpriority` given a thread id applies to that thread alone;
 * elsewhere this does nothing.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(threadId)) setPriority(threadId, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Not Linux, or not permitted: fold at normal priority.
  }
}
