import { type HistoryPage, HistoryUnavailableError, type RoomHistory } from '../storage/history.js';
import type { StoredRoom } from '../storage/storage.js';

/** What {@link RoomHistoryAccess} needs of its room. */
interface HistoryHost {
  /** The storage's history, when it keeps one. */
  history(): RoomHistory | undefined;
  /** The room's clock now. */
  clock(): number;
  /** The room's live document now (copies the caller owns), at its clock. */
  live(): StoredRoom;
  /** Resolves once every write so far is stored. */
  flush(): Promise<void>;
}

/**
 * Reads of a room's history (SPEC H1, H3), each made once every write so far
 * is stored, so a read never misses an acked write.
 *
 * A past state is undone from the room's in-memory document, the checkpoint
 * that is always at hand: the storage then reads only the history after the
 * clock asked for, not every stored component (docs/history.md, "Reading a
 * past state: the cost").
 */
export class RoomHistoryAccess {
  constructor(private readonly host: HistoryHost) {}

  /** The document as it was at `clock`; throws for a clock that is not a non-negative integer or is in the future. */
  async readAt(clock: number): Promise<StoredRoom> {
    const history = this.require();
    if (!Number.isSafeInteger(clock) || clock < 0)
      throw new RangeError('clock must be a non-negative integer');
    if (clock > this.host.clock()) throw new RangeError(`clock ${clock} is after the room clock`);
    // Taken before the flush, on this turn of the event loop: every write up to
    // `live.timestamp` is staged now, so once the flush resolves the storage
    // holds each one's history entry, which is what undoing needs. Writes made
    // meanwhile are after `live.timestamp` and are not undone.
    const live = this.host.live();
    await this.host.flush();
    return history.readAt(clock, live);
  }

  /** A page of history, newest first. */
  async list(options: { before?: number; limit: number }): Promise<HistoryPage> {
    const history = this.require();
    await this.host.flush();
    return history.listHistory(options);
  }

  /** The oldest clock whose state can still be read. */
  async horizon(): Promise<number> {
    const history = this.require();
    await this.host.flush();
    return history.horizon();
  }

  private require(): RoomHistory {
    const history = this.host.history();
    if (!history) throw new HistoryUnavailableError();
    return history;
  }
}
