/**
 * A write refused because another process claimed the room with a newer epoch
 * (SPEC K2), or because the writer's lease may have ended. Nothing of the
 * refused batch is stored, so nothing of it may be acked.
 */
export class FencedError extends Error {
  constructor(
    readonly roomId: string,
    message: string,
    /** The room's epoch in the database when the write was refused, when known. */
    readonly storedEpoch?: number,
  ) {
    super(`room ${roomId}: ${message}`);
    this.name = 'FencedError';
  }
}
