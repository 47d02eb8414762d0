import { CloseCode } from 'canvas-store-protocol';
import type { RoomManager } from '../manager/room-manager.js';
import type { Logger } from '../room/logger.js';
import type { ClusterObserver } from './cluster-observer.js';
import type { RoomLeases } from './room-leases.js';

/**
 * Binds each room instance of this node's {@link RoomManager} to the lease term
 * it was opened under (SPEC K1, K2). An instance may be served only while that
 * term is the one held: once the lease was lost, ran out, was given back or was
 * taken again under a new term, another node may have written the room, so the
 * instance is dropped (its sessions closed with 1012, nothing more stored; what
 * it had not stored was never acked) and the next session loads the room
 * afresh from PostgreSQL.
 */
export class RoomInstances {
  /** The lease term each instance was opened under (undefined: opened without a lease). */
  private readonly terms = new Map<string, number | undefined>();

  constructor(
    private readonly manager: RoomManager,
    private readonly leases: RoomLeases,
    private readonly logger: Logger,
    private readonly observer: ClusterObserver | undefined,
    /** Rooms being handed over: they are closing with a store, not to be dropped. */
    private readonly handingOver: ReadonlySet<string>,
  ) {}

  /** Records that an instance of `roomId` is opened now, under `term`. */
  bind(roomId: string, term: number | undefined): void {
    this.terms.set(roomId, term);
  }

  /** The term the current instance of `roomId` was opened under. */
  termOf(roomId: string): number | undefined {
    return this.terms.get(roomId);
  }

  /** Drops the open instance of `roomId` when it was opened under another term than the one held now. */
  dropStale(roomId: string): void {
    if (this.handingOver.has(roomId) || !this.manager.getExistingRoom(roomId)) return;
    const term = this.terms.get(roomId);
    if (term !== undefined && term === this.leases.termOf(roomId)) return;
    this.drop(roomId, 'room instance of an ended lease term');
  }

  /** Drops every stale open instance, and forgets the terms of rooms no longer open. */
  sweep(): void {
    for (const roomId of this.manager.getRoomIds()) this.dropStale(roomId);
    for (const roomId of Array.from(this.terms.keys())) {
      if (!this.manager.hasRoom(roomId)) this.terms.delete(roomId);
    }
  }

  /** Drops the instance of `roomId` (open, loading or closing) without storing more. */
  drop(roomId: string, reason: string): void {
    if (!this.manager.hasRoom(roomId)) return;
    this.observer?.roomLost(reason);
    this.logger.warn({ roomId, reason }, 'room instance dropped');
    this.manager.dropRoom(roomId, CloseCode.ServiceRestart, reason);
  }
}
