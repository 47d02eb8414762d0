import type { RoomManager } from '../manager/room-manager.js';
import type { Logger } from '../room/logger.js';
import type { ClusterObserver } from './cluster-observer.js';
import type { ClusterRedis } from './cluster-redis.js';
import type { LinkDispatch } from './link-dispatch.js';
import { preferredOwner } from './rendezvous.js';
import type { RoomHandover } from './room-handover.js';
import type { RoomInstances } from './room-instances.js';
import type { RoomLeases } from './room-leases.js';

/** What {@link MembershipTick} renews and acts on. */
interface MembershipTickParts {
  nodeId: string;
  /** Lease of memberships and rooms, in ms; the tick runs every third of it. */
  leaseMs: number;
  redis: ClusterRedis;
  leases: RoomLeases;
  instances: RoomInstances;
  handover: RoomHandover;
  dispatch: LinkDispatch;
  manager: RoomManager;
  /** Rooms with opens in flight: their lease must not be released as idle. */
  opening: ReadonlyMap<string, number>;
  /** True once the node began its graceful stop: the tick does nothing more. */
  stopping(): boolean;
  logger: Logger;
  observer: ClusterObserver | undefined;
}

/**
 * This node's periodic cluster work (SPEC K1, K2, K4, K6, K7), every third of
 * a lease: renew the membership and the room leases, give up rooms whose lease
 * was lost or ran out, drop room instances of an ended term, close sessions
 * relayed with nodes that left the membership, release idle rooms' leases and
 * hand rooms over to the node that is now their preferred owner.
 */
export class MembershipTick {
  private liveNodes = new Set<string>();
  private lastHeartbeat = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly parts: MembershipTickParts) {}

  /** The nodes whose membership was fresh at the last heartbeat, this one included. */
  get live(): ReadonlySet<string> {
    return this.liveNodes;
  }

  /**
   * True while this node's last heartbeat is recent enough that its membership
   * has not run out in Redis (three quarters of a lease keeps a margin for clocks).
   */
  get fresh(): boolean {
    return performance.now() - this.lastHeartbeat < this.parts.leaseMs * 0.75;
  }

  /** Runs the first tick, then one every third of a lease. Rejects when the membership could not be joined. */
  async start(): Promise<void> {
    await this.tick();
    if (!this.fresh) throw new Error('could not join the cluster membership in Redis');
    this.timer = setInterval(
      () => {
        // Checked even while a renewal is still waiting for Redis.
        this.giveUpExpired();
        void this.tick();
      },
      Math.max(1, Math.floor(this.parts.leaseMs / 3)),
    );
    this.timer.unref();
  }

  /** Stops the periodic tick. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Renews membership and leases; gives up what can no longer be held; moves rooms to their preferred node. */
  private async tick(): Promise<void> {
    const { redis, leases, handover, logger, observer } = this.parts;
    if (this.ticking || this.parts.stopping()) return;
    this.ticking = true;
    try {
      const sentAt = performance.now();
      let fresh = false;
      try {
        this.liveNodes = new Set(await redis.heartbeat());
        this.lastHeartbeat = sentAt;
        fresh = true;
      } catch (error) {
        observer?.renewFailed();
        logger.warn({ err: error }, 'cluster membership renewal failed');
      }
      try {
        for (const roomId of await leases.renewAll()) handover.lose(roomId, 'lease taken by another node');
      } catch (error) {
        observer?.renewFailed();
        logger.warn({ err: error }, 'room lease renewal failed');
      }
      this.giveUpExpired();
      this.parts.instances.sweep();
      if (fresh) this.afterFreshMembership();
    } finally {
      this.ticking = false;
    }
  }

  private giveUpExpired(): void {
    for (const roomId of this.parts.leases.expired()) {
      this.parts.handover.lose(roomId, 'lease could not be renewed in time');
    }
  }

  private afterFreshMembership(): void {
    const { leases, handover, manager, opening, nodeId } = this.parts;
    // Sessions relayed through nodes whose membership expired (SIGKILL, partition): SPEC K4.
    for (const node of this.parts.dispatch.deadPeers(this.liveNodes)) {
      this.parts.dispatch.broken(node, 'node left the membership');
    }
    const unpersisted = new Set(manager.getUnpersistedRoomIds());
    for (const roomId of leases.roomIds) {
      if (handover.has(roomId) || opening.has(roomId)) continue;
      const open = manager.getExistingRoom(roomId) !== undefined;
      if (!open) {
        // Closed for idleness (and stored): let another node take it at once.
        if (!unpersisted.has(roomId)) leases.release(roomId).catch(() => {});
        continue;
      }
      const preferred = preferredOwner(roomId, this.liveNodes);
      if (preferred !== undefined && preferred !== nodeId) {
        void handover.handOver(roomId, `room moving to node ${preferred}`);
      }
    }
  }
}
