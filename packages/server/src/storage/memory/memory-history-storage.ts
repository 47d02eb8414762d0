import type { RoomSnapshot } from '../../document/room-snapshot.js';
import type { StoredComponent } from '../../document/stored-component.js';
import { snapshotComponents, storedRoomSnapshot } from '../component-rows.js';
import type { HistoryPage, HistoryRetention, RoomHistory } from '../history.js';
import {
  HistoryLog,
  isCompactableTombstone,
  isTombstone,
  resolveHistoryRetention,
  retentionKeeps,
} from '../history-log.js';
import type { CommitBatch, IncrementalStorage, StoredRoom } from '../storage.js';

/** Options of {@link MemoryHistoryStorage}. */
export interface MemoryHistoryStorageOptions {
  /** History retention (SPEC H3); `maxEntries: 0` or `maxBytes: 0` keeps none. Defaults: 30 days, 100 000 writes, 32 MiB. */
  history?: Partial<HistoryRetention>;
  /** The clock for history times and age-based retention; `Date.now` by default. */
  now?: () => number;
}

/**
 * One room in memory with history (SPEC H1): commits apply each batch to
 * the stored components and keep its writes, so past states can be read and
 * restored. Nothing survives the process; the server's `memory` backend uses
 * it. {@link MemoryStorage} is the plain load/save variant.
 *
 * @example
 * ```ts
 * const room = new Room({ storage: new MemoryHistoryStorage({ history: { maxEntries: 1000 } }) });
 * ```
 */
export class MemoryHistoryStorage implements IncrementalStorage, RoomHistory {
  private components: Map<string, StoredComponent> | null = null;
  private clock = 0;
  private readonly log: HistoryLog;
  /** Keys stored as tombstones, so compaction (SPEC H3) visits only those. */
  private readonly tombstones = new Set<string>();

  constructor(options: MemoryHistoryStorageOptions = {}) {
    this.log = new HistoryLog(resolveHistoryRetention(options.history), options.now ?? Date.now);
  }

  async load(): Promise<RoomSnapshot | null> {
    const stored = await this.loadComponents();
    return stored && storedRoomSnapshot(stored);
  }

  async loadComponents(): Promise<StoredRoom | null> {
    if (!this.components) return null;
    return copyRoom({ timestamp: this.clock, components: Array.from(this.components.values()) });
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    const components = structuredClone(snapshotComponents(snapshot));
    this.components = new Map(components.map((component) => [component.key, component]));
    this.tombstones.clear();
    for (const component of components) if (isTombstone(component)) this.tombstones.add(component.key);
    this.clock = snapshot.timestamp;
    // A whole snapshot replaces the room: history before it does not lead to it.
    this.log.reset([], snapshot.timestamp);
  }

  async commit(batch: CommitBatch): Promise<void> {
    this.components ??= new Map();
    // The room hands over copies of each component (field values are never mutated), so they are kept as is.
    for (const component of batch.components) {
      this.components.set(component.key, component);
      if (isTombstone(component)) this.tombstones.add(component.key);
      else this.tombstones.delete(component.key);
    }
    this.clock = Math.max(this.clock, batch.timestamp);
    if (batch.writes && this.keepsHistory()) this.log.append(batch.writes, true);
    this.compact();
  }

  /**
   * Applies retention now (SPEC H3), as a commit does: the server calls it
   * for rooms nobody writes, so their old history goes too. O(dropped
   * entries), plus the room's tombstones when any entry was dropped.
   *
   * @returns true when entries were dropped.
   */
  compactIdle(): boolean {
    const size = this.log.size;
    this.log.compact(this.clock);
    if (this.log.size === size) return false;
    this.sweepTombstones();
    return true;
  }

  private compact(): void {
    this.log.compact(this.clock);
    this.sweepTombstones();
  }

  /** Drops tombstones at or before the horizon; with history off they are kept (SPEC D9). */
  private sweepTombstones(): void {
    if (!this.keepsHistory() || !this.components) return;
    const horizon = this.log.horizon(this.clock);
    for (const key of this.tombstones) {
      const component = this.components.get(key);
      if (component && isCompactableTombstone(component, horizon)) {
        this.components.delete(key);
        this.tombstones.delete(key);
      }
    }
  }

  keepsHistory(): boolean {
    return retentionKeeps(this.log.retention);
  }

  async listHistory(options: { before?: number; limit: number }): Promise<HistoryPage> {
    return this.log.list(options);
  }

  /** The state at `clock`, undone from the caller's `live` state when it is not ahead of what is stored. */
  async readAt(clock: number, live?: StoredRoom): Promise<StoredRoom> {
    // The caller's components are its own: only the restored ones need copies (undoWrites makes them).
    if (live && live.timestamp <= this.clock) return this.log.readAt(live, clock);
    const stored: StoredRoom = {
      timestamp: this.clock,
      components: Array.from(this.components?.values() ?? []),
    };
    return copyRoom(this.log.readAt(stored, clock));
  }

  async horizon(): Promise<number> {
    return this.log.horizon(this.clock);
  }
}

/** A copy a caller may change without changing what is stored (field values are shared, never mutated). */
function copyRoom(room: StoredRoom): StoredRoom {
  return {
    timestamp: room.timestamp,
    components: room.components.map((component) => ({
      ...component,
      data: { ...component.data },
      stamps: { ...component.stamps },
    })),
  };
}
