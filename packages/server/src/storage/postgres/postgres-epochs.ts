import type pg from 'pg';
import { FencedError } from '../fenced-error.js';
import type { RoomFence } from '../room-fence.js';

/**
 * The fencing epochs of rooms served by a cluster (SPEC K2): one row per room
 * holding the epoch of its latest owner. Claiming a room raises the epoch, and
 * every write of an owner checks its epoch in the write's own statement.
 */
export class PostgresEpochs {
  constructor(
    /** The epochs table, `<prefix>room_epochs`. */
    readonly table: string,
  ) {}

  /** The statement that creates the table once. */
  schema(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.table} (room_id TEXT PRIMARY KEY, epoch BIGINT NOT NULL)`;
  }

  /**
   * Claims `roomId` for a new owner: its stored epoch becomes the larger of
   * `proposed` and the stored one plus one, and is returned. From then on, writes
   * made under any earlier epoch are refused.
   */
  async claim(pool: pg.Pool, roomId: string, proposed: number): Promise<number> {
    const result = await pool.query<{ epoch: string }>(
      `INSERT INTO ${this.table} AS e (room_id, epoch) VALUES ($1, $2)
       ON CONFLICT (room_id) DO UPDATE SET epoch = GREATEST(e.epoch + 1, excluded.epoch)
       RETURNING epoch`,
      [roomId, proposed],
    );
    return Number(result.rows[0]?.epoch);
  }

  /** The latest epoch claimed for `roomId`, 0 when none was. */
  async stored(pool: pg.Pool, roomId: string): Promise<number> {
    const result = await pool.query<{ epoch: string }>(`SELECT epoch FROM ${this.table} WHERE room_id = $1`, [
      roomId,
    ]);
    return Number(result.rows[0]?.epoch ?? 0);
  }

  /** The error of a write refused under `epoch`, naming the epoch that owns the room now. */
  async refusal(pool: pg.Pool, roomId: string, epoch: number): Promise<FencedError> {
    const stored = await this.stored(pool, roomId).catch(() => Number.NaN);
    return new FencedError(
      roomId,
      `write under epoch ${epoch} refused, the room's epoch is ${stored}`,
      stored,
    );
  }
}

/** Runs `write`, telling the fence when it was refused for a newer epoch. */
export async function tellFence(fence: RoomFence, write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (error instanceof FencedError) fence.fenced(error.storedEpoch ?? Number.NaN);
    throw error;
  }
}
