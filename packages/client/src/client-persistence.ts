import type { SerializedEntry } from './confirmed-state.js';
import { IndexedDbStore } from './indexed-db-store.js';
import type { LocalDocument } from './local-document.js';
import { deserializePendingPatch, serializePendingPatch } from './merge-patches.js';

/**
 * Keeps a client's state in IndexedDB: loads it once, then writes what
 * changed (confirmed keys, clock, pending edits) shortly after each change,
 * one transaction per write so the stored clock never runs ahead of the
 * stored document.
 */
export class ClientPersistence {
  private store: IndexedDbStore | null = null;
  private readonly dirtyKeys = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastWrite: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly local: LocalDocument,
    private readonly onError: (message: string) => void,
  ) {}

  /**
   * Opens database `name` and loads room `roomId` into the local document.
   * Returns the keys whose view changed; resolves with none when IndexedDB is
   * unavailable (the client then keeps everything in memory).
   */
  async load(name: string, roomId: string): Promise<string[]> {
    const store = await IndexedDbStore.open(name, roomId);
    if (!store) return [];
    if (this.closed) {
      store.close();
      return [];
    }
    const state = await store.load();
    this.store = store;
    const changed = this.local.restore(state.entries, state.clock, deserializePendingPatch(state.pending));
    // Edits made while loading are now merged behind the loaded ones: store them.
    this.schedule();
    return changed;
  }

  /** A confirmed key changed. */
  markKey(key: string): void {
    this.dirtyKeys.add(key);
  }

  /** Writes soon (changes made in the same tick share one write). */
  schedule(): void {
    if (!this.store || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow();
    }, 0);
  }

  /** Resolves once everything changed so far is stored. */
  async flushed(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.writeNow();
    }
    await this.lastWrite;
  }

  /** Writes what is left and closes the database; resolves once written. */
  close(): Promise<void> {
    this.closed = true;
    const flushed = this.flushed();
    this.store?.close();
    this.store = null;
    return flushed;
  }

  private writeNow(): void {
    const store = this.store;
    if (!store) return;
    const put: SerializedEntry[] = [];
    const remove: string[] = [];
    for (const key of this.dirtyKeys) {
      const entry = this.local.confirmed.serializeEntry(key);
      if (entry) put.push(entry);
      else remove.push(key);
    }
    this.dirtyKeys.clear();
    const changes = {
      clock: this.local.confirmed.clock,
      put,
      remove,
      pending: serializePendingPatch(this.local.unconfirmed()),
    };
    const previous = this.lastWrite;
    const write = store.write(changes).catch((error: unknown) => {
      this.onError(error instanceof Error ? error.message : String(error));
    });
    this.lastWrite = previous.then(() => write);
  }
}
