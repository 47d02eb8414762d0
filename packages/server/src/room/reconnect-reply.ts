import type { Patch, PatchBroadcast } from 'canvas-store-protocol';
import type { ClockedDocument } from '../document/clocked-document.js';

/**
 * The `patch` frame that answers a `reconnect` (SPEC D7, E2): the document
 * changes after `since` (minus what the client itself just created) and the
 * other clients' ephemeral state; null when there is nothing to send.
 */
export function buildReconnectReply(
  document: ClockedDocument,
  since: number,
  createdByClient: ReadonlySet<string> | undefined,
  others: Patch | null,
): PatchBroadcast | null {
  const documentChanges = document.reconnectPatches(since, createdByClient);
  if (documentChanges.length === 0 && !others) return null;
  const reply: PatchBroadcast = { type: 'patch', clientId: '' };
  if (documentChanges.length > 0) {
    reply.documentPatches = documentChanges;
    reply.timestamp = document.clock;
  }
  if (others) reply.ephemeralPatches = [others];
  return reply;
}
