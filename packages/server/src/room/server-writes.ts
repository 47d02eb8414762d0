import { checkPatchList, type Patch } from 'canvas-store-protocol';
import type { StoredRoom } from '../storage/storage.js';
import type { RoomContext } from './room-context.js';
import { restorePatches } from './room-history.js';
import { nonEmpty, notifyDocumentChanged } from './room-writes.js';

/**
 * Applies a document patch written by the server (`Room.applyServerPatch`):
 * checked like a client frame's patches (SPEC B2), then written as the server.
 *
 * @returns the new clock (unchanged when the patches held no keys).
 * @throws TypeError when the patches are malformed; nothing is applied then.
 */
export function writeServerPatch(ctx: RoomContext, patches: Patch[]): number {
  const checked = checkPatchList(patches, ctx.limits);
  if (!checked.ok) throw new TypeError(`invalid patch (${checked.error.code}): ${checked.error.message}`);
  return writeAsServer(ctx, nonEmpty(checked.patches));
}

/**
 * Writes, as the server, the patches that make the live document equal to
 * `past` (SPEC H2) and returns the new clock (unchanged when nothing differed).
 * The current document is read here, on the event-loop turn that applies the
 * write, so writes that landed while `past` was read are restored too.
 */
export function writeRestore(ctx: RoomContext, past: StoredRoom): number {
  const { document } = ctx;
  return writeAsServer(ctx, restorePatches(document.readComponents(document.keys()), past));
}

/**
 * Applies, stores and broadcasts validated patches as the server (`clientId: ''`),
 * through the same steps as a client's write: staged for the commit, broadcast
 * to every session (none is the author), then announced to user callbacks.
 */
function writeAsServer(ctx: RoomContext, documentPatches: Patch[]): number {
  if (documentPatches.length === 0) return ctx.document.clock;
  const timestamp = ctx.writeDocument(documentPatches, '');
  ctx.outbox.broadcast(null, { type: 'patch', clientId: '', documentPatches, timestamp });
  notifyDocumentChanged(ctx, documentPatches);
  return timestamp;
}
