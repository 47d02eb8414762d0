import type { SerializedEntry } from './confirmed-state.js';
import type { SerializedPendingPatch } from './merge-patches.js';

/** What a client keeps across page reloads. */
interface PersistedState {
  /** The confirmed clock (the next reconnect's `lastTimestamp`). */
  clock: number;
  /** The confirmed document, tombstones and stamps included. */
  entries: SerializedEntry[];
  /** Every edit not confirmed by the server, merged. */
  pending: SerializedPendingPatch;
}

/** One write: changed confirmed keys, removed keys, the clock and all pending edits, stored atomically. */
interface PersistedChanges {
  clock: number;
  put: SerializedEntry[];
  remove: string[];
  pending: SerializedPendingPatch;
}

const VERSION = 1;
const COMPONENTS = 'components';
const META = 'meta';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * Client state in IndexedDB (raw API, no library): the confirmed document as
 * one record per key, plus the clock and the pending edits. Several rooms may
 * share a database: every record is keyed by `[roomId, ...]`.
 *
 * @example
 * ```ts
 * const store = await IndexedDbStore.open('my-app', 'room-1'); // null without IndexedDB
 * const state = await store?.load();
 * ```
 */
export class IndexedDbStore {
  private closed = false;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly roomId: string,
  ) {}

  /** Opens (creating when needed) database `name`; resolves `null` when IndexedDB is unavailable. */
  static async open(
    name: string,
    roomId: string,
    factory: IDBFactory | undefined = globalThis.indexedDB,
  ): Promise<IndexedDbStore | null> {
    if (!factory) return null;
    const openRequest = factory.open(name, VERSION);
    openRequest.onupgradeneeded = () => {
      const db = openRequest.result;
      if (!db.objectStoreNames.contains(COMPONENTS)) db.createObjectStore(COMPONENTS);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    const db = await request(openRequest);
    // Another tab upgrading the database: let it, this connection is done.
    db.onversionchange = () => db.close();
    return new IndexedDbStore(db, roomId);
  }

  /** Reads this room's state (empty when nothing was stored). */
  async load(): Promise<PersistedState> {
    const tx = this.db.transaction([COMPONENTS, META], 'readonly');
    const range = IDBKeyRange.bound([this.roomId], [this.roomId, []]);
    const [entries, clock, pending] = await Promise.all([
      request(tx.objectStore(COMPONENTS).getAll(range)),
      request(tx.objectStore(META).get([this.roomId, 'clock'])),
      request(tx.objectStore(META).get([this.roomId, 'pending'])),
    ]);
    return {
      clock: typeof clock === 'number' && clock >= 0 ? clock : 0,
      entries: Array.isArray(entries) ? (entries as SerializedEntry[]) : [],
      pending: Array.isArray(pending) ? (pending as SerializedPendingPatch) : [],
    };
  }

  /** Stores one set of changes in a single transaction. */
  async write(changes: PersistedChanges): Promise<void> {
    if (this.closed) return;
    const tx = this.db.transaction([COMPONENTS, META], 'readwrite');
    const components = tx.objectStore(COMPONENTS);
    const meta = tx.objectStore(META);
    for (const key of changes.remove) components.delete([this.roomId, key]);
    for (const entry of changes.put) components.put(entry, [this.roomId, entry[0]]);
    meta.put(changes.clock, [this.roomId, 'clock']);
    meta.put(changes.pending, [this.roomId, 'pending']);
    await done(tx);
  }

  /** Closes the database; later writes are ignored. */
  close(): void {
    this.closed = true;
    this.db.close();
  }
}
