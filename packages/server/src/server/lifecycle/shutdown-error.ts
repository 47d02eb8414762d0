/** Most room ids a shutdown message lists before it says "and N more". */
const LISTED_ROOMS = 10;

function roomList(roomIds: readonly string[]): string {
  const listed = roomIds.slice(0, LISTED_ROOMS).map((id) => JSON.stringify(id));
  const more = roomIds.length - listed.length;
  return more > 0 ? `${listed.join(', ')} and ${more} more` : listed.join(', ');
}

/**
 * Shutdown could not store every room: either storage did not finish within
 * `--shutdown-timeout`, or it failed. The message is one human sentence naming
 * the rooms whose edits are not stored and what to do; the command exits 1.
 */
export class ShutdownError extends Error {
  constructor(
    message: string,
    /** Rooms not known to be stored when the server gave up (their latest edits may be lost). */
    readonly unsavedRoomIds: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ShutdownError';
  }

  /** Storage did not finish within the shutdown timeout. */
  static timedOut(timeoutMs: number, roomIds: readonly string[]): ShutdownError {
    const rooms =
      roomIds.length > 0
        ? `the edits of room(s) ${roomList(roomIds)} are not stored`
        : 'storage did not finish';
    return new ShutdownError(
      `shutdown gave up after ${timeoutMs} ms (--shutdown-timeout or CANVAS_SHUTDOWN_TIMEOUT_MS): ${rooms}; storage is failing or too slow, so check it (the logs say why) and raise --shutdown-timeout if it is only slow`,
      roomIds,
    );
  }

  /** Storage failed for some rooms; their data keeps no newer edits than what was stored. */
  static failed(roomIds: readonly string[], cause: unknown): ShutdownError {
    return new ShutdownError(
      `shutdown could not store every room: the latest edits of room(s) ${roomList(roomIds)} are not stored; check the storage (the logs say why)`,
      roomIds,
      { cause },
    );
  }
}
