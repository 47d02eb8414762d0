import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { RoomSnapshot } from '../../document/room-snapshot.js';
import {
  type ComponentRow,
  databaseRoomStorage,
  deletedAtColumn,
  parseComponentRow,
  snapshotComponents,
} from '../component-rows.js';
import type { HistoryRetention } from '../history.js';
import { IDLE_ROOMS_PER_STEP } from '../history-compaction.js';
import { resolveHistoryRetention } from '../history-log.js';
import { startWorker } from '../start-worker.js';
import type { CommitBatch, IncrementalStorage, StoredComponent, StoredRoom } from '../storage.js';
import type {
  CheckpointWorkerCommand,
  CheckpointWorkerData,
  CheckpointWorkerRequest,
} from './sqlite-checkpoint-worker.js';
import { type CompactionState, newCompactionState, SqliteHistory } from './sqlite-history.js';

/** Options of {@link SqliteStorage}. */
export interface SqliteStorageOptions {
  /** Database file (created with its directory when missing), or ':memory:'. */
  path: string;
  /**
   * SQLite `synchronous` mode. `normal` (default) survives a crash of the
   * process at any moment; `full` also survives power loss, at a cost per commit.
   */
  synchronous?: 'normal' | 'full';
  /** History retention of every room (SPEC H1, H3); `maxEntries: 0` or `maxBytes: 0` keeps none. Defaults: 30 days, 100 000 writes, 32 MiB. */
  history?: Partial<HistoryRetention>;
  /** The clock of history times and age retention; `Date.now` by default. */
  now?: () => number;
}

// Rows are read in pages so that loading a large room yields to the event loop
// instead of blocking every other room for the whole load.
const LOAD_PAGE_SIZE = 5_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const CHECKPOINT_INTERVAL_MS = 500;
/**
 * WAL length in frames (pages) past which, if it has not restarted, commits
 * are held for one short checkpoint so that it can (about 8 MiB at 4 KiB pages).
 */
const CHECKPOINT_CATCH_UP_FRAMES = 2_000;
/** When the WAL restarts after a burst, its file is truncated back to this size. */
export const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;
/** SQLite's default, used on the main connection if the checkpoint worker fails. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 1_000;

/**
 * Durable embedded storage on SQLite (`better-sqlite3`, WAL mode): one database
 * file holds many rooms. Each commit writes only the components that changed,
 * in one transaction; a committed write survives a SIGKILL of the process
 * (SPEC P2). Tombstones are kept (SPEC D9).
 *
 * The committing connection never checkpoints the WAL (`wal_autocheckpoint = 0`),
 * since a checkpoint inside a commit stalls the event loop: a worker thread
 * with its own connection checkpoints in the background (see
 * `sqlite-checkpoint-worker.ts`), started at the first write. Under a steady
 * stream of writes it now and then holds commits (not the event loop) for one
 * short checkpoint, so that the WAL restarts instead of growing. `close()`
 * stops it after a final checkpoint.
 *
 * @example
 * ```ts
 * const sqlite = new SqliteStorage({ path: './data/rooms.db' });
 * const manager = new RoomManager({ createStorage: (roomId) => sqlite.forRoom(roomId) });
 * // on shutdown, after manager.closeAll():
 * await sqlite.close();
 * ```
 */
export class SqliteStorage {
  private readonly db: Database.Database;
  private readonly path: string;
  private checkpointer: Worker | null = null;
  private checkpointerExited: Promise<void> = Promise.resolve();
  private checkpointerFailed = false;
  /** Set while the checkpoint worker holds commits to let the WAL restart. */
  private commitGate: { held: Promise<void>; release: () => void } | null = null;
  private readonly statements;
  private readonly commitTransaction: (
    roomId: string,
    batch: CommitBatch,
    compaction: CompactionState,
  ) => void;
  private readonly replaceTransaction: (roomId: string, snapshot: RoomSnapshot) => void;
  private readonly history: SqliteHistory;

  constructor(options: SqliteStorageOptions) {
    if (!options || typeof options.path !== 'string' || options.path === '') {
      throw new TypeError('SqliteStorage needs a path');
    }
    const synchronous = options.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new TypeError(`synchronous must be 'normal' or 'full', got ${String(synchronous)}`);
    }
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.path = options.path;
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    this.db.pragma('busy_timeout = 5000');
    if (options.path !== ':memory:') {
      this.db.pragma('wal_autocheckpoint = 0');
      this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS rooms (
        room_id TEXT PRIMARY KEY,
        clock INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS components (
        room_id TEXT NOT NULL,
        key TEXT NOT NULL,
        data TEXT NOT NULL,
        stamps TEXT NOT NULL,
        deleted_at INTEGER,
        PRIMARY KEY (room_id, key)
      ) WITHOUT ROWID;
    `);
    addDeletedAtColumn(this.db);
    this.history = new SqliteHistory(
      this.db,
      resolveHistoryRetention(options.history),
      options.now ?? Date.now,
    );
    this.statements = {
      clock: this.db.prepare<[string], { clock: number }>('SELECT clock FROM rooms WHERE room_id = ?'),
      firstPage: this.db.prepare<[string, number], ComponentRow>(
        'SELECT key, data, stamps, deleted_at FROM components WHERE room_id = ? ORDER BY key LIMIT ?',
      ),
      nextPage: this.db.prepare<[string, string, number], ComponentRow>(
        'SELECT key, data, stamps, deleted_at FROM components WHERE room_id = ? AND key > ? ORDER BY key LIMIT ?',
      ),
      upsertClock: this.db.prepare<[string, number]>(
        'INSERT INTO rooms (room_id, clock) VALUES (?, ?) ON CONFLICT (room_id) DO UPDATE SET clock = excluded.clock',
      ),
      upsertComponent: this.db.prepare<[string, string, string, string, number | null]>(
        `INSERT INTO components (room_id, key, data, stamps, deleted_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (room_id, key) DO UPDATE
         SET data = excluded.data, stamps = excluded.stamps, deleted_at = excluded.deleted_at`,
      ),
      deleteRoomComponents: this.db.prepare<[string]>('DELETE FROM components WHERE room_id = ?'),
      deleteRoom: this.db.prepare<[string]>('DELETE FROM rooms WHERE room_id = ?'),
      roomIds: this.db.prepare<[], { room_id: string }>('SELECT room_id FROM rooms ORDER BY room_id'),
    };
    this.commitTransaction = this.db.transaction(
      (roomId: string, batch: CommitBatch, compaction: CompactionState) => {
        this.writeComponents(roomId, batch.components);
        this.statements.upsertClock.run(roomId, batch.timestamp);
        // History in the same transaction as the write (SPEC H1).
        this.history.record(roomId, batch, compaction);
      },
    );
    this.replaceTransaction = this.db.transaction((roomId: string, snapshot: RoomSnapshot) => {
      // A whole snapshot replaces the room: the history before it does not lead to it.
      this.history.deleteRoom(roomId);
      this.statements.deleteRoomComponents.run(roomId);
      this.writeComponents(roomId, snapshotComponents(snapshot));
      this.statements.upsertClock.run(roomId, snapshot.timestamp);
    });
  }

  /** The storage of one room, to hand to a {@link Room} or a {@link RoomManager} factory; it keeps history (SPEC H1). */
  forRoom(roomId: string): IncrementalStorage {
    const compaction = newCompactionState();
    const history = this.history;
    const storage = databaseRoomStorage(roomId, {
      loadRoom: () => this.loadRoom(roomId),
      replaceRoom: async (snapshot) => {
        await this.writable();
        this.replaceTransaction(roomId, snapshot);
      },
      commitRoom: async (batch) => {
        await this.writable();
        this.commitTransaction(roomId, batch, compaction);
      },
      history: {
        keepsHistory: () => history.keeps,
        listHistory: async (options) => history.list(roomId, options),
        readAt: async (clock, live) => history.readAt(roomId, clock, live),
        horizon: async () => history.horizon(roomId),
      },
    });
    return storage;
  }

  /**
   * One step of idle compaction (SPEC H3): age retention for up to `budget`
   * rooms, whether open or not, continuing where the previous step stopped.
   * The server takes one step every few seconds; see `history-compaction.ts`.
   *
   * @returns the rooms whose history was compacted.
   */
  async compactIdleHistory(budget: number = IDLE_ROOMS_PER_STEP): Promise<string[]> {
    if (!this.db.open) return [];
    await this.writable();
    return this.history.compactIdle(budget);
  }

  /** Ids of every room stored in the database. */
  listRooms(): string[] {
    return this.statements.roomIds.all().map((row) => row.room_id);
  }

  /** Removes a room and all its data. */
  deleteRoom(roomId: string): void {
    this.startCheckpointer();
    this.db.transaction(() => {
      this.history.deleteRoom(roomId);
      this.statements.deleteRoomComponents.run(roomId);
      this.statements.deleteRoom.run(roomId);
    })();
  }

  /** True when the database answers a trivial query (for readiness checks). */
  isHealthy(): boolean {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Closes the database. Call after every room using it is closed. The
   * returned promise resolves once the checkpoint worker has checkpointed one
   * last time and exited.
   */
  close(): Promise<void> {
    const worker = this.checkpointer;
    this.checkpointer = null;
    this.openCommitGate();
    if (this.db.open) this.db.close();
    // Keep the process alive until the final checkpoint is done.
    worker?.ref();
    worker?.postMessage({ type: 'stop' } satisfies CheckpointWorkerCommand);
    return this.checkpointerExited;
  }

  /** Waits while the checkpoint worker holds commits; starts it at the first write. */
  private async writable(): Promise<void> {
    while (this.commitGate) await this.commitGate.held;
    this.startCheckpointer();
  }

  private startCheckpointer(): void {
    if (this.checkpointer || this.checkpointerFailed || this.path === ':memory:' || !this.db.open) return;
    const data: CheckpointWorkerData = {
      path: this.path,
      intervalMs: CHECKPOINT_INTERVAL_MS,
      catchUpFrames: CHECKPOINT_CATCH_UP_FRAMES,
    };
    let worker: Worker;
    try {
      worker = startWorker(import.meta.url, 'sqlite-checkpoint-worker', data);
    } catch {
      this.checkpointInCommits();
      return;
    }
    this.checkpointer = worker;
    // Like a timer, the worker does not keep the process alive, except while it holds commits.
    worker.unref();
    worker.on('message', (request: CheckpointWorkerRequest) => {
      if (request.type === 'resume') {
        this.openCommitGate();
        return;
      }
      // Commits run synchronously, so none is in progress here; later ones wait.
      if (!this.commitGate) {
        let release = () => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        this.commitGate = { held, release };
      }
      worker.ref();
      worker.postMessage({ type: 'paused' } satisfies CheckpointWorkerCommand);
    });
    // A failure ends the worker; the 'exit' handler takes over.
    worker.on('error', () => {});
    this.checkpointerExited = new Promise((resolve) => {
      worker.once('exit', () => {
        if (this.checkpointer === worker) {
          this.checkpointer = null;
          this.checkpointInCommits();
        }
        this.openCommitGate();
        resolve();
      });
    });
  }

  /** Without a worker (it failed to start or died), checkpoint inside commits, as SQLite does by default. */
  private checkpointInCommits(): void {
    this.checkpointerFailed = true;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  }

  private openCommitGate(): void {
    const gate = this.commitGate;
    this.commitGate = null;
    this.checkpointer?.unref();
    gate?.release();
  }

  private writeComponents(roomId: string, components: readonly StoredComponent[]): void {
    for (const component of components) {
      this.statements.upsertComponent.run(
        roomId,
        component.key,
        JSON.stringify(component.data),
        JSON.stringify(component.stamps),
        deletedAtColumn(component),
      );
    }
  }

  private async loadRoom(roomId: string): Promise<StoredRoom | null> {
    const room = this.statements.clock.get(roomId);
    if (!room) return null;
    const components: StoredComponent[] = [];
    let after: string | null = null;
    for (;;) {
      const rows: ComponentRow[] =
        after === null
          ? this.statements.firstPage.all(roomId, LOAD_PAGE_SIZE)
          : this.statements.nextPage.all(roomId, after, LOAD_PAGE_SIZE);
      for (const row of rows) components.push(parseComponentRow(roomId, row));
      const last = rows[rows.length - 1];
      if (!last || rows.length < LOAD_PAGE_SIZE) break;
      after = last.key;
      await yieldToEventLoop();
    }
    return { timestamp: room.clock, components };
  }
}

/**
 * Databases created before deletion stamps were stored lack the `deleted_at`
 * column: add it once. Idempotent, so every start may run it.
 */
function addDeletedAtColumn(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(components)').all();
  if (!columns.some((column) => column.name === 'deleted_at')) {
    db.exec('ALTER TABLE components ADD COLUMN deleted_at INTEGER');
  }
}
