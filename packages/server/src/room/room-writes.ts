import type { Patch, PatchBroadcast } from 'canvas-store-protocol';
import type { RoomContext } from './room-context.js';
import { type QuotaRefusal, quotaRefusal } from './room-quotas.js';
import type { Session } from './session.js';

function hasKeys(patch: Patch): boolean {
  for (const _ in patch) return true;
  return false;
}

/** The patches that hold at least one key; the same array when all do (the common case, no allocation). */
export function nonEmpty(patches: readonly Patch[] | undefined): Patch[] {
  if (!patches) return [];
  return patches.every(hasKeys) ? (patches as Patch[]) : patches.filter(hasKeys);
}

/**
 * Applies a readwrite session's document and ephemeral patches and returns
 * the broadcast for the other sessions (SPEC A3: both parts in one frame).
 */
export function applyWrite(
  ctx: RoomContext,
  session: Session,
  documentPatches: Patch[],
  ephemeralPatches: Patch[],
): PatchBroadcast | null {
  if (documentPatches.length === 0 && ephemeralPatches.length === 0) return null;
  const broadcast: PatchBroadcast = { type: 'patch', clientId: session.clientId };
  if (documentPatches.length > 0) {
    broadcast.documentPatches = documentPatches;
    broadcast.timestamp = ctx.writeDocument(documentPatches, session.clientId);
  }
  if (ephemeralPatches.length > 0) {
    ctx.ephemeral.apply(session.clientId, ephemeralPatches);
    broadcast.ephemeralPatches = ephemeralPatches;
  }
  return broadcast;
}

/** The quota a readwrite session's write would pass (SPEC B7), or null. */
export function writeRefusal(
  ctx: RoomContext,
  session: Session,
  documentPatches: Patch[],
  ephemeralPatches: Patch[],
): QuotaRefusal | null {
  return quotaRefusal(
    ctx.document,
    ctx.ephemeral,
    session.clientId,
    documentPatches,
    ephemeralPatches,
    ctx.limits,
  );
}

/** Refuses a write that would pass a quota (SPEC B7): an `error` frame, nothing applied, no ack. */
export function refuseWrite(
  ctx: RoomContext,
  session: Session,
  refusal: QuotaRefusal,
  messageId: string | undefined,
): void {
  ctx.counters.framesRejected++;
  ctx.events.observe((o) => o.frameRejected?.(refusal.code));
  ctx.events.limitHit(session, refusal.limit, `write refused: ${refusal.code}`);
  ctx.outbox.sendError(
    session,
    messageId === undefined
      ? { code: refusal.code, message: refusal.message }
      : { code: refusal.code, message: refusal.message, messageId },
  );
}

/**
 * The one announcement of a document write to user code (`onDocumentPatch`,
 * then `onDataChange`), made by every write path (`patch`, `reconnect`,
 * `applyServerPatch`) once the write's ack and broadcasts are queued, so a
 * callback that writes (say, a server patch) comes after them (SPEC O2, O3).
 * Storage hears of the write earlier and once, in the room's `writeDocument`
 * (the keys staged for the commit the ack waits on, SPEC O4).
 */
export function notifyDocumentChanged(ctx: RoomContext, documentPatches: Patch[]): void {
  if (documentPatches.length === 0) return;
  const { events, options, room } = ctx;
  events.callback('onDocumentPatch', () => options.onDocumentPatch?.(room, documentPatches));
  events.callback('onDataChange', () => options.onDataChange?.(room));
}
