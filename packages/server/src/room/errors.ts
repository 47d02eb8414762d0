/** The room is closed and accepts no sessions. */
export class RoomClosedError extends Error {
  constructor(roomId?: string) {
    super(roomId === undefined ? 'room is closed' : `room ${roomId} is closed`);
    this.name = 'RoomClosedError';
  }
}

/** The room already holds `maxSessionsPerRoom` sessions (SPEC B4). */
export class RoomFullError extends Error {
  constructor(readonly limit: number) {
    super(`room is full (${limit} sessions)`);
    this.name = 'RoomFullError';
  }
}
