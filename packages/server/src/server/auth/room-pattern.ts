/**
 * True when a token's `room` claim grants `roomId`: an exact id, or a pattern
 * where `*` matches any run of characters (`team-42/*`, `*`).
 */
export function roomClaimMatches(claim: string, roomId: string): boolean {
  if (!claim.includes('*')) return claim === roomId;
  const parts = claim.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's').test(roomId);
}
