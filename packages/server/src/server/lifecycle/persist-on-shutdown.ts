import type { RoomManager } from '../../manager/room-manager.js';
import type { StorageBackend } from '../../storage/storage-backend.js';
import type { ServerLogger } from '../observability/create-logger.js';
import { ShutdownError } from './shutdown-error.js';
import { withTimeout } from './with-timeout.js';

/**
 * The storage half of a graceful shutdown: persist every room (SPEC P5), then
 * close the storage, each within `timeoutMs`. Resolves with the error naming
 * the rooms whose edits are not stored, or undefined when every room is stored.
 * Never hangs past the deadline: storage that hangs or keeps failing must not
 * keep the process alive forever.
 */
export async function persistRoomsAndCloseStorage(
  manager: RoomManager,
  storage: StorageBackend,
  timeoutMs: number,
  logger: ServerLogger,
): Promise<ShutdownError | undefined> {
  let failure: ShutdownError | undefined;
  const persisted = manager.closeAll().catch((error: unknown) => {
    failure = ShutdownError.failed(manager.getUnpersistedRoomIds(), error);
    logger.error(
      { err: error, rooms: failure.unsavedRoomIds },
      'some rooms could not be persisted on shutdown',
    );
  });
  if (
    await withTimeout(
      persisted.then(() => true),
      timeoutMs,
      false,
    )
  ) {
    const closed = storage.close().then(
      () => true,
      (error: unknown) => {
        logger.error({ err: error }, 'storage close failed');
        return true;
      },
    );
    // Every room is stored by now; a storage that hangs on close only delays the exit.
    if (!(await withTimeout(closed, timeoutMs, false))) {
      logger.warn({ timeoutMs }, 'storage did not close in time; exiting anyway');
    }
  } else {
    // Storage that hangs or keeps failing must not keep the process alive forever:
    // say which rooms lose edits, and leave storage as it is.
    failure = ShutdownError.timedOut(timeoutMs, manager.getUnpersistedRoomIds());
    logger.error(
      { rooms: failure.unsavedRoomIds, timeoutMs },
      'shutdown timed out before every room was stored',
    );
  }
  return failure;
}
