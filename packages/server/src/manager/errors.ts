/** A room's storage failed to load it; the room stays closed (SPEC P3). The cause is attached. */
export class RoomLoadError extends Error {
  constructor(
    readonly roomId: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`room ${roomId} could not be loaded: ${reason}`, { cause });
    this.name = 'RoomLoadError';
  }
}

/** The manager already holds `maxRooms` rooms. */
export class TooManyRoomsError extends Error {
  constructor(readonly limit: number) {
    super(`too many rooms open (${limit})`);
    this.name = 'TooManyRoomsError';
  }
}

/** The manager was shut down with `closeAll()` and opens no more rooms. */
export class RoomManagerClosedError extends Error {
  constructor() {
    super('the room manager is closed');
    this.name = 'RoomManagerClosedError';
  }
}

/**
 * The room was dropped while it opened (cluster mode: this process lost the
 * room's lease, SPEC K2): the caller should close its session with `code`, so
 * the client reconnects and reaches the room's current owner.
 */
export class RoomDroppedError extends Error {
  constructor(
    readonly roomId: string,
    readonly code: number,
    readonly reason: string,
  ) {
    super(`room ${roomId} was dropped while it opened: ${reason}`);
    this.name = 'RoomDroppedError';
  }
}
