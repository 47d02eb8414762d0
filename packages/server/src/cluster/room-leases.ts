import type { ClusterRedis, LeaseAttempt } from './cluster-redis.js';

interface HeldLease {
  epoch: number;
  /**
   * This node's number for one unbroken holding of the lease: a new term starts
   * whenever the lease is taken afresh (after it was lost, ran out or was given
   * back), even if Redis's epoch counter was reset and repeats a number. A room
   * instance is bound to the term it was opened under.
   */
  term: number;
  /** `performance.now()` after which this node no longer counts on the lease. */
  validUntil: number;
}

/** The outcome of {@link RoomLeases.acquire}. */
export type Acquired = LeaseAttempt & {
  /** The term this node holds the lease under now (when held). */
  term: number | undefined;
  /** True when a term of this node ended unnoticed and a new one replaced it: its room instance is stale. */
  replaced: boolean;
};

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
  private nextTerm = 1;

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

  /** The term of the lease on `roomId`, when held. */
  termOf(roomId: string): number | undefined {
    return this.held.get(roomId)?.term;
  }

  /** True while this node may write `roomId` (under `term`, when given). */
  isValid(roomId: string, term?: number): boolean {
    const lease = this.held.get(roomId);
    if (!lease || (term !== undefined && lease.term !== term)) return false;
    return performance.now() < lease.validUntil;
  }

  /**
   * Takes (or extends) the lease on `roomId`. A lease Redis says was free (taken
   * afresh) or that carries another epoch than the one held starts a new term:
   * the held one ended without this node noticing (its renewal was late or lost).
   */
  async acquire(roomId: string): Promise<Acquired> {
    const sentAt = performance.now();
    const attempt = await this.redis.acquire(roomId);
    if (!attempt.held) return { ...attempt, term: undefined, replaced: false };
    const current = this.held.get(roomId);
    if (current && current.epoch === attempt.epoch && !attempt.taken) {
      current.validUntil = Math.max(current.validUntil, this.validAfter(sentAt));
      return { ...attempt, term: current.term, replaced: false };
    }
    const term = this.nextTerm++;
    this.held.set(roomId, { epoch: attempt.epoch, term, validUntil: this.validAfter(sentAt) });
    return { ...attempt, term, replaced: current !== undefined };
  }

  /**
   * Renews every held lease in one script; resolves with the rooms whose lease
   * another node took meanwhile. Rejects when Redis cannot be reached.
   */
  async renewAll(): Promise<string[]> {
    const leases = Array.from(this.held, ([roomId, lease]) => ({
      roomId,
      epoch: lease.epoch,
      term: lease.term,
    }));
    const sentAt = performance.now();
    const still = await this.redis.renew(leases);
    const lost: string[] = [];
    for (const { roomId, term } of leases) {
      const lease = this.held.get(roomId);
      // A term that ended meanwhile (lost, released, replaced) is not this answer's to judge.
      if (!lease || lease.term !== term) continue;
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
