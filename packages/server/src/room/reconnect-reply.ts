import type { Patch, PatchBroadcast } from 'canvas-store-protocol';
import type { ClockedDocument } from '../document/clocked-document.js';

/**
 * A reconnect reply. `dropOthers: true` (SPEC H3) marks a reply holding the
 * whole live document, sent to a client whose `lastTimestamp` is older than
 * the compaction horizon: deletions before the horizon are forgotten, so the
 * client must drop every key the reply does not hold. Clients that do not
 * know the field (the published one) ignore it.
 */
export type ReconnectReply = PatchBroadcast & { dropOthers?: true };

/**
 * The reply to a client older than the compaction horizon (SPEC H3): the
 * whole live document, marked `dropOthers`, sent even when the document is
 * empty (the client may hold keys deleted since).
 */
export function buildHorizonReply(document: ClockedDocument, others: Patch | null): ReconnectReply {
  const reply: ReconnectReply = {
    type: 'patch',
    clientId: '',
    documentPatches: document.reconnectPatches(0),
    timestamp: document.clock,
    dropOthers: true,
  };
  if (others) reply.ephemeralPatches = [others];
  return reply;
}

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
): ReconnectReply | null {
  const documentChanges = document.reconnectPatches(since, createdByClient);
  if (documentChanges.length === 0 && !others) return null;
  const reply: ReconnectReply = { type: 'patch', clientId: '' };
  if (documentChanges.length > 0) {
    reply.documentPatches = documentChanges;
    reply.timestamp = document.clock;
  }
  if (others) reply.ephemeralPatches = [others];
  return reply;
}
