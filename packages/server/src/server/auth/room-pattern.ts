/**
 * True when a token's `room` claim grants `roomId`: an exact id, or a pattern
 * where `*` matches any run of characters (`team-42/*`, `*`) (SPEC B9).
 *
 * No regular expression and no backtracking: the literal parts between stars
 * are found left to right, each at its first place after the previous one
 * (taking the earliest place never loses a match when `*` is the only
 * wildcard). The work is at most the id's length times the claim's length,
 * whatever the pattern (`*a*a*a*a*b` against a long id included).
 *
 * @example
 * ```ts
 * roomClaimMatches('team-42/*', 'team-42/board'); // true
 * ```
 */
export function roomClaimMatches(claim: string, roomId: string): boolean {
  if (!claim.includes('*')) return claim === roomId;
  const parts = claim.split('*');
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  // The fixed ends must fit without overlapping.
  if (first.length + last.length > roomId.length) return false;
  if (!roomId.startsWith(first) || !roomId.endsWith(last)) return false;
  let position = first.length;
  const end = roomId.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    if (part === '') continue;
    const found = roomId.indexOf(part, position);
    if (found < 0 || found + part.length > end) return false;
    position = found + part.length;
  }
  return true;
}
