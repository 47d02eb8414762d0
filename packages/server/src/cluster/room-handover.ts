import { CloseCode } from 'canvas-store-protocol';
import type { RoomManager } from '../manager/room-manager.js';
import type { Logger } from '../room/logger.js';
import type { ClusterObserver } from './cluster-observer.js';
import type { RoomLeases } from './room-leases.js';

/**
 * The two ways this node stops owning a room (SPEC K2, K6, K7):
 *
 * - a hand-over, when it still holds the lease: the room is stored and closed,
 *   its sessions closed with 1012, and only then the lease released, so the next
 *   owner loads every acked write;
 * - a loss, when the lease ran out or another node took it: the room is
 *   dropped without storing more, since what it had not stored was never acked
 *   and the next owner may already be writing it.
 */
export class RoomHandover {
  /** Rooms being handed over now: not routed here, not opened, not dropped as stale. */
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly manager: RoomManager,
    private readonly leases: RoomLeases,
    private readonly logger: Logger,
    private readonly observer: ClusterObserver | undefined,
  ) {}

  /** The rooms being handed over now (a live view, for {@link RoomInstances}). */
  get rooms(): ReadonlySet<string> {
    return this.inProgress;
  }

  /** True while `roomId` is being handed over. */
  has(roomId: string): boolean {
    return this.inProgress.has(roomId);
  }

  /** Stores and closes the room, closes its sessions with 1012, then releases the lease (SPEC K7). */
  async handOver(roomId: string, reason: string): Promise<void> {
    if (this.inProgress.has(roomId)) return;
    this.inProgress.add(roomId);
    try {
      const room = this.manager.getExistingRoom(roomId);
      if (room) {
        for (const session of room.getSessions()) {
          room.closeSession(session.sessionId, CloseCode.ServiceRestart, reason);
        }
        await this.manager.closeRoom(roomId);
      }
      await this.leases.release(roomId);
      this.logger.info({ roomId, reason }, 'room handed over');
    } catch (error) {
      // Not stored yet: keep the lease; the tick releases it once the room's data is stored.
      this.logger.warn({ roomId, err: error }, 'room hand-over could not store the room yet');
    } finally {
      this.inProgress.delete(roomId);
    }
  }

  /** Gives a room up without storing more (its unstored writes were never acked): SPEC K2, K6. */
  lose(roomId: string, reason: string): void {
    if (this.leases.epochOf(roomId) === undefined && !this.manager.hasRoom(roomId)) return;
    this.leases.forget(roomId);
    this.observer?.roomLost(reason);
    this.logger.warn({ roomId, reason }, 'room given up');
    this.manager.dropRoom(roomId, CloseCode.ServiceRestart, reason);
  }
}
