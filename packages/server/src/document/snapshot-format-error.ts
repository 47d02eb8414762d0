/**
 * A snapshot (from storage, a file or `initialSnapshot`) is not a valid
 * {@link RoomSnapshot}. The room refuses to open rather than start empty (SPEC P3).
 */
export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(`invalid room snapshot: ${message}`);
    this.name = 'SnapshotFormatError';
  }
}
