/**
 * What a storage needs to fence one room's writes (SPEC K2): the epoch the
 * caller's lease proposes, a check that the lease is still held before each
 * write starts, and a callback for when the database refused a write because
 * a newer owner claimed the room.
 *
 * Only storages shared by several processes (PostgreSQL) honour a fence; the
 * cluster layer builds one per room instance it opens.
 */
export interface RoomFence {
  /** The epoch of the lease under which the room is opened; the stored epoch becomes at least this. */
  readonly leaseEpoch: number;
  /** Throws when the lease may have ended, so that no commit starts (and nothing is acked) after it. */
  assertHeld(): void;
  /** Told the epoch the storage claimed for this room instance when it loaded it. */
  claimed(epoch: number): void;
  /** Told when the database refused a write because a newer epoch owns the room. */
  fenced(storedEpoch: number): void;
}
