import type { ClusterRedis, LeaseAttempt } from './cluster-redis.js';

interface HeldLease {
  epoch: number;
  /** `performance.now()` after which this node no longer counts on the lease. */
  validUntil: number;
}

/**
 * Share of the lease this node counts on after a renewal was sent: the rest is
 * margin for clock rate differences and for a commit already on its way to the
 * database, so this node stops starting commits (and so acking) before Redis
 * can let the lease go to another node (SPEC K2).
 */
const TRUSTED_SHARE = 0.75;

/**
 * The room leases this node holds (SPEC K1): taken and renewed with atomic
 * scripts, each with the epoch Redis gave it and the local time until which
 * this node may act on it.
 */
export class RoomLeases {
  private readonly held = new Map<string, HeldLease>();

  constructor(
    private readonly redis: ClusterRedis,
    private readonly leaseMs: number,
  ) {}

  /** Rooms whose lease this node holds (valid or not yet noticed as lost). */
  get roomIds(): string[] {
    return Array.from(this.held.keys());
  }

  /** The epoch of the lease on `roomId`, when held. */
  epochOf(roomId: string): number | undefined {
    return this.held.get(roomId)?.epoch;
  }

  /** True while this node may write `roomId` (under `epoch`, when given). */
  isValid(roomId: string, epoch?: number): boolean {
    const lease = this.held.get(roomId);
    if (!lease || (epoch !== undefined && lease.epoch !== epoch)) return false;
    return performance.now() < lease.validUntil;
  }

  /** Takes (or extends) the lease on `roomId`. */
  async acquire(roomId: string): Promise<LeaseAttempt> {
    const sentAt = performance.now();
    const attempt = await this.redis.acquire(roomId);
    if (attempt.held) this.held.set(roomId, { epoch: attempt.epoch, validUntil: this.validAfter(sentAt) });
    return attempt;
  }

  /**
   * Renews every held lease in one script; resolves with the rooms whose lease
   * another node took meanwhile. Rejects when Redis cannot be reached.
   */
  async renewAll(): Promise<string[]> {
    const leases = Array.from(this.held, ([roomId, lease]) => ({ roomId, epoch: lease.epoch }));
    const sentAt = performance.now();
    const still = await this.redis.renew(leases);
    const lost: string[] = [];
    for (const { roomId, epoch } of leases) {
      const lease = this.held.get(roomId);
      if (!lease || lease.epoch !== epoch) continue;
      if (still.has(roomId)) lease.validUntil = this.validAfter(sentAt);
      else lost.push(roomId);
    }
    return lost;
  }

  /** Rooms whose lease this node can no longer count on (renewals failed for too long). */
  expired(): string[] {
    const now = performance.now();
    return Array.from(this.held).flatMap(([roomId, lease]) => (now >= lease.validUntil ? [roomId] : []));
  }

  /** Forgets a lease without telling Redis (it was lost or ran out). */
  forget(roomId: string): void {
    this.held.delete(roomId);
  }

  /** Gives a lease back so another node may take the room at once. */
  async release(roomId: string): Promise<void> {
    const lease = this.held.get(roomId);
    if (!lease) return;
    this.held.delete(roomId);
    await this.redis.release(roomId, lease.epoch);
  }

  private validAfter(sentAt: number): number {
    return sentAt + this.leaseMs * TRUSTED_SHARE;
  }
}
