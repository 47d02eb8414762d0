/**
 * Lease terms (issue 14, SPEC K1, K2): a room instance is bound to the term of
 * the lease it was opened under, so RoomLeases must start a new term exactly
 * when the lease was taken afresh: when Redis says it was free (even if its
 * epoch counter was reset and repeats the number held), or when it carries
 * another epoch. Extending the lease this node holds keeps the term.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterRedis, LeaseAttempt } from '../../src/cluster/cluster-redis.js';
import { RoomLeases } from '../../src/cluster/room-leases.js';

/** A ClusterRedis that answers `acquire` with the scripted attempts, in order. */
function scriptedRedis(attempts: LeaseAttempt[]): ClusterRedis {
  return {
    acquire: async () => {
      const next = attempts.shift();
      if (!next) throw new Error('no scripted attempt left');
      return next;
    },
    renew: async (leases: ReadonlyArray<{ roomId: string }>) => new Set(leases.map((l) => l.roomId)),
    release: async () => {},
  } as unknown as ClusterRedis;
}

const mine = (epoch: number, taken: boolean): LeaseAttempt => ({ held: true, holder: 'n1', epoch, taken });

describe('RoomLeases terms (SPEC K1, K2)', () => {
  it('[K2] extending the held lease keeps the term; a lease taken afresh starts a new one and says the old one was replaced', async () => {
    const leases = new RoomLeases(scriptedRedis([mine(4, true), mine(4, false), mine(9, true)]), 60_000);
    const first = await leases.acquire('r');
    expect(first).toMatchObject({ held: true, replaced: false });
    const term = first.term as number;
    expect(leases.isValid('r', term)).toBe(true);
    const extended = await leases.acquire('r');
    expect(extended).toMatchObject({ term, replaced: false });
    // The lease ran out unnoticed and was taken again (another node may have written the room meanwhile).
    const retaken = await leases.acquire('r');
    expect(retaken.replaced).toBe(true);
    expect(retaken.term).not.toBe(term);
    expect(leases.isValid('r', term)).toBe(false);
    expect(leases.isValid('r', retaken.term)).toBe(true);
  });

  it('[K2][K6] a lease taken afresh under the same epoch number (Redis restarted, its counter reset) is a new term', async () => {
    const leases = new RoomLeases(scriptedRedis([mine(1, true), mine(1, true)]), 60_000);
    const first = await leases.acquire('r');
    const again = await leases.acquire('r');
    expect(again.replaced).toBe(true);
    expect(again.term).not.toBe(first.term);
  });

  it('[K2] after a lost lease is forgotten, taking it again is a new term that replaces nothing', async () => {
    const leases = new RoomLeases(scriptedRedis([mine(2, true), mine(3, true)]), 60_000);
    const first = await leases.acquire('r');
    leases.forget('r');
    expect(leases.termOf('r')).toBeUndefined();
    const again = await leases.acquire('r');
    expect(again).toMatchObject({ replaced: false });
    expect(again.term).not.toBe(first.term);
  });

  it('[K1] a lease held by another node gives no term', async () => {
    const leases = new RoomLeases(
      scriptedRedis([{ held: false, holder: 'n2', epoch: 5, taken: false }]),
      60_000,
    );
    expect(await leases.acquire('r')).toMatchObject({ held: false, term: undefined, replaced: false });
    expect(leases.termOf('r')).toBeUndefined();
  });
});
