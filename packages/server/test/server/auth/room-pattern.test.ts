import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roomClaimMatches } from '../../../src/server/auth/room-pattern.js';

/** The obvious definition, as a regular expression: only for short inputs. */
function reference(claim: string, roomId: string): boolean {
  const parts = claim.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's').test(roomId);
}

describe('room claims with wildcards (SPEC B9)', () => {
  it('[B9] agrees with the regular-expression definition on random short claims and ids', () => {
    const char = fc.constantFrom('a', 'b', '/', '*', '.', '\n');
    const text = fc.array(char, { maxLength: 8 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(text, text, (claim, id) => {
        const roomId = id.replaceAll('*', 'x');
        expect(roomClaimMatches(claim, roomId)).toBe(reference(claim, roomId));
      }),
      { numRuns: 3_000, seed: 11 },
    );
  });

  it('[B9] typical claims', () => {
    expect(roomClaimMatches('team-42/*', 'team-42/board')).toBe(true);
    expect(roomClaimMatches('team-42/*', 'team-43/board')).toBe(false);
    expect(roomClaimMatches('*', 'anything')).toBe(true);
    expect(roomClaimMatches('a*a', 'a')).toBe(false);
    expect(roomClaimMatches('exact', 'exact')).toBe(true);
    expect(roomClaimMatches('exact', 'exactly')).toBe(false);
  });

  it('[B9] a pathological pattern against the longest id is answered (a backtracking regex takes minutes)', () => {
    const claim = `${'*a'.repeat(40)}*b`;
    const roomId = 'a'.repeat(512);
    // Bounded work: this returns at once; the regex version of the same claim does not finish.
    expect(roomClaimMatches(claim, roomId)).toBe(false);
    expect(roomClaimMatches(claim, `${roomId}b`)).toBe(true);
  });
});
