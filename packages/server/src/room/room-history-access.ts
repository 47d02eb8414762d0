import { type HistoryPage, HistoryUnavailableError, type RoomHistory } from '../storage/history.js';
import type { StoredRoom } from '../storage/storage.js';

/** What {@link RoomHistoryAccess} needs of its room. */
interface HistoryHost {
  /** The storage's history, when it keeps one. */
  history(): RoomHistory | undefined;
  /** The room's clock now. */
  clock(): number;
  /** Resolves once every write so far is stored. */
  flush(): Promise<void>;
}

/**
 * Reads of a room's history (SPEC H1, H3), each made once every write so far
 * is stored, so a read never misses an acked write.
 */
export class RoomHistoryAccess {
  constructor(private readonly host: HistoryHost) {}

  /** The document as it was at `clock`; throws for a clock that is not a non-negative integer or is in the future. */
  async readAt(clock: number): Promise<StoredRoom> {
    const history = this.require();
    if (!Number.isSafeInteger(clock) || clock < 0)
      throw new RangeError('clock must be a non-negative integer');
    if (clock > this.host.clock()) throw new RangeError(`clock ${clock} is after the room clock`);
    await this.host.flush();
    return history.readAt(clock);
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
