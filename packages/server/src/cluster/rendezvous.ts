import { createHash } from 'node:crypto';

/** The weight of `nodeId` for `roomId`: the first 48 bits of a SHA-1 of both. */
function weight(roomId: string, nodeId: string): number {
  return createHash('sha1').update(roomId).update('\0').update(nodeId).digest().readUIntBE(0, 6);
}

/**
 * The preferred owner of `roomId` among `nodes` by rendezvous (highest random
 * weight) hashing (SPEC K1): every node computes the same answer from the same
 * membership, and a node joining or leaving moves only the rooms it wins or held.
 * Undefined when `nodes` is empty. Ties (astronomically rare) go to the smaller id.
 */
export function preferredOwner(roomId: string, nodes: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const node of nodes) {
    const w = weight(roomId, node);
    if (w > bestWeight || (w === bestWeight && best !== undefined && node < best)) {
      best = node;
      bestWeight = w;
    }
  }
  return best;
}
