import { consoleLogger, type Logger } from '../room/logger.js';
import { Room } from '../room/room.js';
import type { RoomOptions } from '../room/room-options.js';
import type { Storage } from '../storage/storage.js';
import { RoomLoadError, RoomManagerClosedError, TooManyRoomsError } from './errors.js';

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
  private readonly opening = new Map<string, Promise<Room>>();
  /** Rooms being closed: the close attempt, and when their data is finally stored. */
  private readonly closingRooms = new Map<string, { closing: Promise<void>; persisted: Promise<void> }>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
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
    if (pending) return pending;
    if (this.rooms.size + this.opening.size >= this.maxRooms) {
      return Promise.reject(new TooManyRoomsError(this.maxRooms));
    }
    const opened = this.createAndLoad(roomId, optionsFor);
    this.opening.set(roomId, opened);
    return opened;
  }

  /** The room if it is open, else undefined. */
  getExistingRoom(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
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
    const entry = { closing, persisted: room.whenPersisted() };
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
   * with `code`. Unknown rooms are ignored.
   */
  dropRoom(roomId: string, code: number, reason: string): void {
    this.clearIdleTimer(roomId);
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
    await Promise.allSettled(this.opening.values());
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

  private async createAndLoad(roomId: string, optionsFor?: (roomId: string) => RoomOptions): Promise<Room> {
    try {
      // A previous instance of this room may still be saving; load after it.
      await this.closingRooms.get(roomId)?.persisted;
      const room = new Room(this.roomOptions(roomId, optionsFor?.(roomId) ?? {}));
      try {
        await room.load();
      } catch (error) {
        room.close({ flush: false }).catch(() => {});
        throw new RoomLoadError(roomId, error);
      }
      this.rooms.set(roomId, room);
      room.watchSessionCount((_, count) => {
        if (count === 0) this.scheduleIdleClose(roomId, room);
        else this.clearIdleTimer(roomId);
      });
      if (room.getSessionCount() === 0) this.scheduleIdleClose(roomId, room);
      return room;
    } catch (error) {
      const loadError = error instanceof RoomLoadError ? error : new RoomLoadError(roomId, error);
      this.logger.error({ roomId, err: loadError }, 'room failed to open');
      throw loadError;
    } finally {
      this.opening.delete(roomId);
    }
  }

  private roomOptions(roomId: string, callOptions: RoomOptions): RoomOptions {
    const options = { ...this.options.roomOptions?.(roomId), ...callOptions };
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
