import pg from 'pg';
import type { RoomSnapshot } from '../../document/room-snapshot.js';
import {
  type ComponentRow,
  databaseRoomStorage,
  parseComponentRow,
  snapshotComponents,
} from '../component-rows.js';
import { FencedError } from '../fenced-error.js';
import type { HistoryRetention, RoomHistory } from '../history.js';
import { IDLE_ROOMS_PER_STEP, newCompactionState } from '../history-compaction.js';
import { resolveHistoryRetention } from '../history-log.js';
import type { RoomFence } from '../room-fence.js';
import type { CommitBatch, IncrementalStorage, StoredRoom } from '../storage.js';
import { addMissingColumns } from './postgres-columns.js';
import { type CommitStatementRow, commitStatement, componentColumns } from './postgres-commit.js';
import { PostgresEpochs, tellFence } from './postgres-epochs.js';
import { type CommitHistoryResult, PostgresHistory } from './postgres-history.js';

/** Options of {@link PostgresStorage}. */
export interface PostgresStorageOptions {
  /** A connection URL, e.g. `postgres://user:pass@host:5432/db`. Either this or `pool` settings. */
  connectionString?: string;
  /** Extra `pg.Pool` settings (max connections, timeouts, TLS); merged with `connectionString`. */
  pool?: pg.PoolConfig;
  /** Prefix of the tables this storage creates (rooms, components, history, room_epochs). Default `canvas_store_`. */
  tablePrefix?: string;
  /**
   * Milliseconds after which a query is abandoned and its connection dropped,
   * so a connection to a database that vanished without closing it (a failover,
   * a dropped route) does not stall the room forever: the commit fails and is
   * retried on a fresh connection. Default 30,000.
   */
  queryTimeoutMs?: number;
  /** Milliseconds to wait for a new connection. Default 10,000. */
  connectTimeoutMs?: number;
  /** History retention of every room (SPEC H1, H3); `maxEntries: 0` or `maxBytes: 0` keeps none. Defaults: 30 days, 100 000 writes, 32 MiB. */
  history?: Partial<HistoryRetention>;
  /** The clock of history times and age retention; `Date.now` by default. */
  now?: () => number;
}

const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const TABLE_PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/;

/**
 * Durable storage on PostgreSQL (`pg`), for deployments where several server
 * processes share one database. Like {@link SqliteStorage} it writes only the
 * components that changed, one statement per commit, and a resolved commit is
 * durable (SPEC P2). The schema is created on first use.
 *
 * Each room must be served by one process at a time. Without a fence the
 * storage does not arbitrate between processes writing the same room; with one
 * (cluster mode) it refuses the writes of every owner but the latest (SPEC K2).
 *
 * @example
 * ```ts
 * const postgres = new PostgresStorage({ connectionString: process.env.DATABASE_URL, pool: { max: 10 } });
 * const manager = new RoomManager({ createStorage: (roomId) => postgres.forRoom(roomId) });
 * // on shutdown, after manager.closeAll():
 * await postgres.close();
 * ```
 */
export class PostgresStorage {
  private readonly pool: pg.Pool;
  private readonly rooms: string;
  private readonly components: string;
  private readonly history: PostgresHistory;
  private readonly epochs: PostgresEpochs;
  private schemaReady: Promise<void> | null = null;

  constructor(options: PostgresStorageOptions) {
    const prefix = options.tablePrefix ?? 'canvas_store_';
    if (!TABLE_PREFIX_PATTERN.test(prefix)) {
      throw new TypeError(`tablePrefix must match ${TABLE_PREFIX_PATTERN}, got ${JSON.stringify(prefix)}`);
    }
    if (!options.connectionString && !options.pool) {
      throw new TypeError('PostgresStorage needs a connectionString or pool settings');
    }
    this.rooms = `${prefix}rooms`;
    this.components = `${prefix}components`;
    this.history = new PostgresHistory(
      `${prefix}history`,
      this.rooms,
      this.components,
      resolveHistoryRetention(options.history),
      options.now ?? Date.now,
    );
    this.epochs = new PostgresEpochs(`${prefix}room_epochs`);
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // Lets the kernel notice a peer that vanished while the connection sat idle.
      keepAlive: true,
      ...options.pool,
    });
    // An idle client that loses its connection must not crash the process (SPEC P4).
    this.pool.on('error', () => {});
  }

  /**
   * The storage of one room, to hand to a {@link Room} or a {@link RoomManager}
   * factory; it keeps history (SPEC H1).
   *
   * With a `fence` (cluster mode, SPEC K2) loading first claims a new epoch for
   * the room, at least `fence.leaseEpoch` and above every earlier one, and every
   * later write checks in its own transaction that no newer epoch claimed the
   * room since: a stale owner's write fails with {@link FencedError} and stores nothing.
   */
  forRoom(roomId: string, fence?: RoomFence): IncrementalStorage {
    const compaction = newCompactionState();
    const { history, pool } = this;
    const commitWithHistory = async (batch: CommitBatch, epoch?: number): Promise<void> => {
      const committed = await this.commitRoom(roomId, batch, epoch);
      await history.compact(pool, roomId, compaction, committed).catch(() => {});
    };

    if (!fence) {
      return databaseRoomStorage(roomId, {
        loadRoom: () => this.loadRoom(roomId),
        replaceRoom: (snapshot) => this.replaceRoom(roomId, snapshot),
        commitRoom: (batch) => commitWithHistory(batch),
        history: this.roomHistory(roomId),
      });
    }
    let epoch: number | undefined;
    const claimedEpoch = (): number => {
      fence.assertHeld();
      if (epoch === undefined) throw new FencedError(roomId, 'written before it was loaded');
      return epoch;
    };
    return databaseRoomStorage(roomId, {
      loadRoom: async () => {
        await this.ensureSchema();
        // Checked right before the claim: a claim made after the lease ended would fence the new owner.
        fence.assertHeld();
        epoch = await this.epochs.claim(pool, roomId, fence.leaseEpoch);
        fence.claimed(epoch);
        return this.loadRoom(roomId);
      },
      replaceRoom: async (snapshot) => tellFence(fence, this.replaceRoom(roomId, snapshot, claimedEpoch())),
      commitRoom: async (batch) => tellFence(fence, commitWithHistory(batch, claimedEpoch())),
      history: this.roomHistory(roomId),
    });
  }

  /**
   * One step of idle compaction (SPEC H3): age retention for up to `budget`
   * rooms, whether open or not (in any process), continuing where the
   * previous step stopped. The server takes one step every few seconds; see
   * `history-compaction.ts`.
   *
   * @returns the rooms whose history was compacted.
   */
  async compactIdleHistory(budget: number = IDLE_ROOMS_PER_STEP): Promise<string[]> {
    await this.ensureSchema();
    return this.history.compactIdle(this.pool, budget);
  }

  /** Claims `roomId` for a new owner (SPEC K2); see {@link PostgresEpochs.claim}. */
  async claimEpoch(roomId: string, proposed: number): Promise<number> {
    await this.ensureSchema();
    return this.epochs.claim(this.pool, roomId, proposed);
  }

  /** The latest epoch claimed for `roomId`, 0 when none was. */
  async storedEpoch(roomId: string): Promise<number> {
    await this.ensureSchema();
    return this.epochs.stored(this.pool, roomId);
  }

  private roomHistory(roomId: string): RoomHistory & { keepsHistory(): boolean } {
    const { history, pool } = this;
    return {
      keepsHistory: () => history.keeps,
      listHistory: async (options) => {
        await this.ensureSchema();
        return history.list(pool, roomId, options);
      },
      readAt: async (clock, live) => {
        await this.ensureSchema();
        return history.readAt(pool, roomId, clock, live);
      },
      horizon: async () => {
        await this.ensureSchema();
        return history.horizon(pool, roomId);
      },
    };
  }

  /** Ids of every stored room. */
  async listRooms(): Promise<string[]> {
    await this.ensureSchema();
    const result = await this.pool.query<{ room_id: string }>(
      `SELECT room_id FROM ${this.rooms} ORDER BY room_id`,
    );
    return result.rows.map((row) => row.room_id);
  }

  /** Removes a room and all its data. */
  async deleteRoom(roomId: string): Promise<void> {
    await this.ensureSchema();
    await this.transaction(async (client) => {
      await client.query(`DELETE FROM ${this.history.table} WHERE room_id = $1`, [roomId]);
      await client.query(`DELETE FROM ${this.components} WHERE room_id = $1`, [roomId]);
      await client.query(`DELETE FROM ${this.rooms} WHERE room_id = $1`, [roomId]);
      await client.query(`DELETE FROM ${this.epochs.table} WHERE room_id = $1`, [roomId]);
    });
  }

  /** True when the database answers a trivial query (for readiness checks). */
  async isHealthy(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Closes every pooled connection. Call after every room using it is closed. */
  async close(): Promise<void> {
    await this.pool.end();
  }

  private ensureSchema(): Promise<void> {
    this.schemaReady ??= this.createSchema().catch((error: unknown) => {
      this.schemaReady = null; // retry on next use, e.g. once the database is reachable
      throw error;
    });
    return this.schemaReady;
  }

  private async createSchema(): Promise<void> {
    await this.transaction(async (client) => {
      // Serialise schema creation across processes starting at the same time.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [this.rooms]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.rooms} (room_id TEXT PRIMARY KEY, clock BIGINT NOT NULL)`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.components} (
           room_id TEXT NOT NULL,
           key TEXT NOT NULL,
           data TEXT NOT NULL,
           stamps TEXT NOT NULL,
           deleted_at BIGINT,
           PRIMARY KEY (room_id, key)
         )`,
      );
      // Databases created before deletion stamps were stored (SPEC D7): add the column once.
      await addMissingColumns(client, this.components, { deleted_at: 'BIGINT' });
      // Databases created before history was kept (SPEC H1) gain its table once.
      await client.query(this.history.schema());
      await addMissingColumns(client, this.history.table, this.history.addedColumns);
      // The fencing epoch of each room served by a cluster (SPEC K2).
      await client.query(this.epochs.schema());
    });
  }

  private async loadRoom(roomId: string): Promise<StoredRoom | null> {
    await this.ensureSchema();
    const room = await this.pool.query<{ clock: string }>(
      `SELECT clock FROM ${this.rooms} WHERE room_id = $1`,
      [roomId],
    );
    const clockRow = room.rows[0];
    if (!clockRow) return null;
    const rows = await this.pool.query<ComponentRow>(
      `SELECT key, data, stamps, deleted_at FROM ${this.components} WHERE room_id = $1`,
      [roomId],
    );
    return {
      timestamp: Number(clockRow.clock),
      components: rows.rows.map((row) => parseComponentRow(roomId, row)),
    };
  }

  private async commitRoom(roomId: string, batch: CommitBatch, epoch?: number): Promise<CommitHistoryResult> {
    await this.ensureSchema();
    const { keys, data, stamps, deletedAt } = componentColumns(batch.components);
    const h = this.history.columns(batch.writes, batch.timestamp);
    const fenced = epoch !== undefined;
    const result = await this.pool.query<CommitStatementRow>(
      commitStatement(
        {
          components: this.components,
          rooms: this.rooms,
          history: this.history.table,
          epochs: this.epochs.table,
        },
        fenced,
      ),
      [
        roomId,
        keys,
        data,
        stamps,
        batch.timestamp,
        deletedAt,
        h.clocks,
        h.times,
        h.authors,
        h.keys,
        h.previous,
        this.history.countCut(batch.timestamp),
        h.bytes,
        h.ends,
        h.first,
        h.ends[h.ends.length - 1] ?? 0,
        this.history.retention.maxBytes,
        ...(fenced ? [epoch] : []),
      ],
    );
    const row = result.rows[0];
    if (fenced && row?.fenced !== false) throw await this.epochs.refusal(this.pool, roomId, epoch);
    const batchBytes = h.ends[h.ends.length - 1];
    return {
      newestEnd: batchBytes === undefined ? null : Number(row?.tail ?? 0) + batchBytes,
      batchBytes: batchBytes ?? 0,
      counted: Number(row?.counted ?? 0),
      sized: Number(row?.sized ?? 0),
    };
  }

  private async replaceRoom(roomId: string, snapshot: RoomSnapshot, epoch?: number): Promise<void> {
    await this.ensureSchema();
    const { keys, data, stamps, deletedAt } = componentColumns(snapshotComponents(snapshot));
    let refused = false;
    await this.transaction(async (client) => {
      if (epoch !== undefined) {
        const fence = await client.query(
          `SELECT epoch FROM ${this.epochs.table} WHERE room_id = $1 AND epoch = $2 FOR SHARE`,
          [roomId, epoch],
        );
        refused = fence.rows.length === 0;
        if (refused) return;
      }
      // A whole snapshot replaces the room: the history before it does not lead to it.
      await client.query(`DELETE FROM ${this.history.table} WHERE room_id = $1`, [roomId]);
      await client.query(`DELETE FROM ${this.components} WHERE room_id = $1`, [roomId]);
      await client.query(
        `INSERT INTO ${this.components} (room_id, key, data, stamps, deleted_at)
         SELECT $1, k, d, s, x FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(k, d, s, x)`,
        [roomId, keys, data, stamps, deletedAt],
      );
      await client.query(
        `INSERT INTO ${this.rooms} (room_id, clock) VALUES ($1, $2)
         ON CONFLICT (room_id) DO UPDATE SET clock = excluded.clock`,
        [roomId, snapshot.timestamp],
      );
    });
    if (refused && epoch !== undefined) throw await this.epochs.refusal(this.pool, roomId, epoch);
  }

  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      // A connection whose query failed (timed out, lost) may be unusable: drop it rather than reuse it.
      client.release(failure);
    }
  }
}
