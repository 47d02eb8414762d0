import { consoleLogger, type Logger } from '../room/logger.js';
import { Room } from '../room/room.js';
import { presenceSettings, type RoomOptions } from '../room/room-options.js';
import type { Storage } from '../storage/storage.js';
import { RoomDroppedError, RoomLoadError, RoomManagerClosedError, TooManyRoomsError } from './errors.js';

/** Default time an empty room stays open, in ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Options of {@link RoomManager}. */
export interface RoomManagerOptions {
  /** Factory for creating storage per room (used unless the room's own options bring one). */
  createStorage?: (roomId: string) => Storage;
  /** Close rooms this many ms after their last session leaves. Default 30000. */
  idleTimeout?: number;
  /** Most rooms open at once; opening one more fails with {@link TooManyRoomsError}. Default 10,000. */
  maxRooms?: number;
  /** Passed to every room that does not bring its own. */
  logger?: Logger;
  /** Default options of every room this manager creates; options given when creating a room win. */
  roomOptions?: (roomId: string) => RoomOptions;
  /** Passed to every room that does not set its own: see {@link RoomOptions.presenceTickMs}. Default 50. */
  presenceTickMs?: number;
  /** Passed to every room that does not set its own: see {@link RoomOptions.presenceBytesPerSecond}. */
  presenceBytesPerSecond?: number;
}

/** A room being opened; `dropped` is set when {@link RoomManager.dropRoom} dropped it meanwhile. */
interface Opening {
  promise: Promise<Room>;
  dropped: { code: number; reason: string } | undefined;
}

/** A room being closed: the close attempt, when its data is stored (or the save was abandoned), and how to abandon it. */
interface ClosingRoom {
  room: Room;
  closing: Promise<void>;
  persisted: Promise<void>;
  abandon: () => void;
}

/** Throws {@link RoomDroppedError} when `opening` was dropped (a function: the flag changes across awaits). */
function throwIfDropped(roomId: string, opening: Opening): void {
  const dropped = opening.dropped;
  if (dropped) throw new RoomDroppedError(roomId, dropped.code, dropped.reason);
}

/**
 * Manages many rooms: opens each once (loading it from storage), closes empty
 * ones after `idleTimeout` (SPEC S3), and closes everything on shutdown (SPEC P5).
 *
 * @example
 * ```ts
 * const manager = new RoomManager({
 *   createStorage: (roomId) => new FileStorage({ dir: './data', roomId }),
 *   idleTimeout: 30000,
 * });
 * const room = await manager.getRoom('my-room');
 * ```
 */
export class RoomManager {
  private readonly rooms = new Map<string, Room>();
  private readonly opening = new Map<string, Opening>();
  /** Openings dropped before they finished: a new opening of the room loads after them. */
  private readonly droppedOpenings = new Map<string, Promise<unknown>>();
  /** Rooms being closed: the close attempt, and when their data is finally stored. */
  private readonly closingRooms = new Map<string, ClosingRoom>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  /** Rooms kept closed by {@link whileClosed}: opening them waits for this. */
  private readonly held = new Map<string, Promise<unknown>>();
  private readonly idleTimeout: number;
  private readonly maxRooms: number;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: RoomManagerOptions = {}) {
    this.idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxRooms = options.maxRooms ?? 10_000;
    this.logger = options.logger ?? consoleLogger;
    if (!Number.isFinite(this.idleTimeout) || this.idleTimeout < 0) {
      throw new RangeError(`idleTimeout must be a non-negative number, got ${this.idleTimeout}`);
    }
    // Checked here too, so a bad value fails at construction rather than at the first room.
    presenceSettings({
      presenceTickMs: options.presenceTickMs,
      presenceBytesPerSecond: options.presenceBytesPerSecond,
    });
  }

  /**
   * Returns the open room, or creates and loads it with `options` (only used
   * when this call creates the room). Concurrent calls share one load.
   *
   * @throws {@link RoomLoadError} when storage cannot load the room (SPEC P3).
   */
  getOrCreateRoom(roomId: string, options?: RoomOptions): Promise<Room> {
    return this.openRoom(roomId, options ? () => options : undefined);
  }

  /** Gets or creates a room, loading it from storage. */
  getRoom(roomId: string): Promise<Room> {
    return this.openRoom(roomId);
  }

  /**
   * Like {@link getOrCreateRoom}, but `optionsFor` is consulted only when this
   * call creates the room (SPEC C4).
   */
  openRoom(roomId: string, optionsFor?: (roomId: string) => RoomOptions): Promise<Room> {
    if (typeof roomId !== 'string' || roomId === '') {
      return Promise.reject(new TypeError('roomId must be a non-empty string'));
    }
    if (this.closed) return Promise.reject(new RoomManagerClosedError());
    const open = this.rooms.get(roomId);
    if (open) return Promise.resolve(open);
    const pending = this.opening.get(roomId);
    if (pending) return pending.promise;
    if (this.rooms.size + this.opening.size >= this.maxRooms) {
      return Promise.reject(new TooManyRoomsError(this.maxRooms));
    }
    const opening: Opening = { promise: Promise.resolve(undefined as never), dropped: undefined };
    opening.promise = this.createAndLoad(roomId, opening, optionsFor);
    this.opening.set(roomId, opening);
    return opening.promise;
  }

  /** The room if it is open, else undefined. */
  getExistingRoom(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  /** True while the room is open, opening or closing (its data not stored yet). */
  hasRoom(roomId: string): boolean {
    return this.rooms.has(roomId) || this.opening.has(roomId) || this.closingRooms.has(roomId);
  }

  /** Ids of all open rooms. */
  getRoomIds(): string[] {
    return Array.from(this.rooms.keys());
  }

  /**
   * Ids of rooms that were closed (by {@link closeRoom}, {@link closeAll} or
   * idleness) whose data is not stored yet, for example while their storage is
   * failing. A shutdown that cannot wait any longer names these as lost.
   */
  getUnpersistedRoomIds(): string[] {
    return Array.from(this.closingRooms.keys());
  }

  /**
   * Closes and removes a room; resolves once it is persisted. When the final
   * save fails this rejects, the room keeps retrying in the background, and
   * reopening it waits until its data is stored.
   */
  closeRoom(roomId: string): Promise<void> {
    this.clearIdleTimer(roomId);
    const room = this.rooms.get(roomId);
    if (!room) return this.closingRooms.get(roomId)?.closing ?? Promise.resolve();
    this.rooms.delete(roomId);
    const closing = room.close();
    let abandon = () => {};
    const abandoned = new Promise<void>((resolve) => {
      abandon = resolve;
    });
    const entry: ClosingRoom = {
      room,
      closing,
      persisted: Promise.race([room.whenPersisted(), abandoned]),
      abandon,
    };
    this.closingRooms.set(roomId, entry);
    entry.persisted.finally(() => {
      if (this.closingRooms.get(roomId) === entry) this.closingRooms.delete(roomId);
    });
    return closing;
  }

  /**
   * Closes a room at once without storing what is not stored yet: for a room this
   * process may no longer write (its cluster lease ended or a newer owner fenced
   * it, SPEC K2), whose unstored writes were never acked. Its sessions are closed
   * with `code`. A room still loading is dropped too: its opening fails with
   * {@link RoomDroppedError} (sessions waiting for it are closed with `code`) and
   * the next opening loads afresh. A room closing whose final save has not
   * succeeded stops retrying it, and may be opened again at once. Unknown rooms
   * are ignored.
   */
  dropRoom(roomId: string, code: number, reason: string): void {
    this.clearIdleTimer(roomId);
    const opening = this.opening.get(roomId);
    if (opening) {
      opening.dropped = { code, reason };
      this.opening.delete(roomId);
      const settled = opening.promise.catch(() => {});
      this.droppedOpenings.set(roomId, settled);
      void settled.then(() => {
        if (this.droppedOpenings.get(roomId) === settled) this.droppedOpenings.delete(roomId);
      });
    }
    const closing = this.closingRooms.get(roomId);
    if (closing) {
      this.closingRooms.delete(roomId);
      closing.room.abandonSaving();
      closing.abandon();
    }
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    for (const session of room.getSessions()) room.closeSession(session.sessionId, code, reason);
    room.close({ flush: false }).catch(() => {});
  }

  /**
   * Closes every room and resolves only after each is persisted (SPEC P5).
   * The manager opens no rooms afterwards ({@link RoomManagerClosedError}).
   * Rejects with an AggregateError naming the rooms that could not be saved.
   */
  async closeAll(): Promise<void> {
    // From now on no room opens: one opened during shutdown would never be persisted.
    this.closed = true;
    await Promise.allSettled(Array.from(this.opening.values(), (opening) => opening.promise));
    for (const roomId of this.getRoomIds()) this.closeRoom(roomId).catch(() => {});
    const results = await Promise.allSettled(
      Array.from(this.closingRooms.values(), (entry) => entry.closing),
    );
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      throw new AggregateError(
        failures.map((f) => f.reason),
        `${failures.length} room(s) could not be persisted on close`,
      );
    }
  }

  /**
   * Closes the room (its sessions reconnect later), runs `work` on its
   * storage while no one can open it, then lets it open again: opening it
   * meanwhile waits. For an import into the room's storage. Runs of the same
   * room go one at a time.
   */
  async whileClosed<T>(roomId: string, work: () => Promise<T>): Promise<T> {
    // Both captured now: openings that start later wait for this run instead.
    const before = this.held.get(roomId);
    const pendingOpen = this.opening.get(roomId)?.promise;
    const run = (async () => {
      await before?.catch(() => {});
      // An opening that started before the hold finishes, then closes with the rest.
      await pendingOpen?.catch(() => {});
      await this.closeRoom(roomId);
      return work();
    })();
    this.held.set(roomId, run);
    try {
      return await run;
    } finally {
      if (this.held.get(roomId) === run) this.held.delete(roomId);
    }
  }

  private async createAndLoad(
    roomId: string,
    opening: Opening,
    optionsFor?: (roomId: string) => RoomOptions,
  ): Promise<Room> {
    try {
      // Only the hold there was when this opening started: later holds wait for this opening.
      await this.held.get(roomId)?.catch(() => {});
      // A previous instance of this room may still be saving, or loading after it was dropped; load after it.
      await this.closingRooms.get(roomId)?.persisted;
      // Checked before waiting: a dropped opening would otherwise wait for itself.
      if (!opening.dropped) await this.droppedOpenings.get(roomId);
      throwIfDropped(roomId, opening);
      const room = new Room(this.roomOptions(roomId, optionsFor?.(roomId) ?? {}));
      try {
        await room.load();
      } catch (error) {
        room.close({ flush: false }).catch(() => {});
        throw new RoomLoadError(roomId, error);
      }
      // Dropped while it loaded (SPEC K2): this instance must not serve anyone.
      if (opening.dropped) {
        room.close({ flush: false }).catch(() => {});
        throwIfDropped(roomId, opening);
      }
      this.rooms.set(roomId, room);
      room.watchSessionCount((_, count) => {
        if (count === 0) this.scheduleIdleClose(roomId, room);
        else this.clearIdleTimer(roomId);
      });
      if (room.getSessionCount() === 0) this.scheduleIdleClose(roomId, room);
      return room;
    } catch (error) {
      if (error instanceof RoomDroppedError) {
        this.logger.warn({ roomId, reason: error.reason }, 'room dropped while it opened');
        throw error;
      }
      const loadError = error instanceof RoomLoadError ? error : new RoomLoadError(roomId, error);
      this.logger.error({ roomId, err: loadError }, 'room failed to open');
      throw loadError;
    } finally {
      if (this.opening.get(roomId) === opening) this.opening.delete(roomId);
    }
  }

  private roomOptions(roomId: string, callOptions: RoomOptions): RoomOptions {
    const { presenceTickMs, presenceBytesPerSecond } = this.options;
    const options = {
      ...(presenceTickMs === undefined ? {} : { presenceTickMs }),
      ...(presenceBytesPerSecond === undefined ? {} : { presenceBytesPerSecond }),
      ...this.options.roomOptions?.(roomId),
      ...callOptions,
    };
    const ownStorage = options.storage !== undefined || options.createStorage !== undefined;
    return {
      ...options,
      roomId,
      logger: options.logger ?? this.logger,
      storage: ownStorage ? options.storage : this.options.createStorage?.(roomId),
    };
  }

  private scheduleIdleClose(roomId: string, room: Room): void {
    this.clearIdleTimer(roomId);
    const timer = setTimeout(() => {
      this.idleTimers.delete(roomId);
      if (this.rooms.get(roomId) !== room || room.getSessionCount() > 0) return;
      this.closeRoom(roomId).catch((error: unknown) => {
        this.logger.error({ roomId, err: error }, 'idle room could not be persisted on close');
      });
    }, this.idleTimeout);
    timer.unref();
    this.idleTimers.set(roomId, timer);
  }

  private clearIdleTimer(roomId: string): void {
    const timer = this.idleTimers.get(roomId);
    if (timer) {
      clearTimeout(timer);
      this.idleTimers.delete(roomId);
    }
  }
}
