import { CloseCode, type PatchRequest, PROTOCOL_VERSION, type ReconnectRequest } from 'canvas-store-protocol';
import { createdBy } from '../document/created-keys.js';
import { buildHorizonReply, buildReconnectReply } from './reconnect-reply.js';
import type { RoomContext } from './room-context.js';
import { LARGE_REPLY_BYTES } from './room-limits.js';
import { applyWrite, nonEmpty, notifyDocumentChanged, refuseWrite, writeRefusal } from './room-writes.js';
import type { Session } from './session.js';

/** Handles a `patch` frame: ack, apply and broadcast (SPEC A1-A3, B7, O2). */
export function handlePatch(
  ctx: RoomContext,
  session: Session,
  frame: PatchRequest,
  receivedAt: number,
): void {
  const documentPatches = nonEmpty(frame.documentPatches);
  const ephemeralPatches = nonEmpty(frame.ephemeralPatches);
  if (documentPatches.length === 0 && ephemeralPatches.length === 0) return; // A1: nothing to ack
  if (session.permissions === 'readonly') {
    // A2: acked, neither applied nor broadcast.
    ctx.outbox.send(session, { type: 'ack', messageId: frame.messageId, timestamp: ctx.document.clock });
    return;
  }
  const refusal = writeRefusal(ctx, session, documentPatches, ephemeralPatches);
  if (refusal) {
    refuseWrite(ctx, session, refusal, frame.messageId);
    return;
  }
  const broadcast = applyWrite(ctx, session, documentPatches, ephemeralPatches);
  const ack = JSON.stringify({ type: 'ack', messageId: frame.messageId, timestamp: ctx.document.clock });
  ctx.outbox.deliver(session, ack, () =>
    ctx.events.observe((o) => o.writeAcked?.(performance.now() - receivedAt)),
  );
  if (broadcast) ctx.outbox.broadcastWrite(session, broadcast);
  notifyDocumentChanged(ctx, documentPatches);
}

/** Handles a `reconnect` frame: offline edits, then what the client missed, then `synced` (SPEC D7, D8, E2). */
export function handleReconnect(ctx: RoomContext, session: Session, frame: ReconnectRequest): void {
  const { outbox } = ctx;
  if (frame.protocolVersion !== PROTOCOL_VERSION) {
    outbox.send(session, { type: 'version-mismatch', serverProtocolVersion: PROTOCOL_VERSION });
    return;
  }
  if (session.replyHeld) {
    // B6: one reconnect reply may wait per session; asking again before it left is amplification.
    ctx.events.limitHit(
      session,
      'reconnectReplies',
      'session closed: reconnect while its last reply is queued',
    );
    ctx.dropSession(session, CloseCode.SlowConsumer, 'reconnect reply still queued');
    return;
  }
  const clockBefore = ctx.document.clock;
  const rolledBack = frame.lastTimestamp > clockBefore;
  let documentPatches = session.permissions === 'readwrite' ? nonEmpty(frame.documentPatches) : [];
  if (session.permissions === 'readwrite') {
    // D8: the client saw writes this server no longer has; ask for them back first.
    if (rolledBack) outbox.send(session, { type: 'resync', since: clockBefore });
    const ephemeralPatches = nonEmpty(frame.ephemeralPatches);
    const refusal = writeRefusal(ctx, session, documentPatches, ephemeralPatches);
    if (refusal) {
      // B7: the offline edits are refused whole; the reconnect itself is still answered.
      refuseWrite(ctx, session, refusal, undefined);
      documentPatches = [];
    } else {
      const broadcast = applyWrite(ctx, session, documentPatches, ephemeralPatches);
      if (broadcast) outbox.broadcastWrite(session, broadcast);
    }
  }
  // After a rollback the client's clock belongs to a history this server lost,
  // so nothing can be assumed known: reply with the whole document.
  const since = rolledBack ? 0 : frame.lastTimestamp;
  const others = ctx.ephemeral.othersThan(session.clientId);
  // H3: deletions before the compaction horizon may be forgotten; such a client gets everything.
  const beforeHorizon = !rolledBack && since > 0 && since < ctx.room.compactionHorizon;
  const reply = beforeHorizon
    ? buildHorizonReply(ctx.document, others)
    : buildReconnectReply(ctx.document, since, createdBy(documentPatches), others);
  if (reply) {
    const text = JSON.stringify(reply);
    // B6: mark a large reply while it waits for durability; the transport bounds it once sent.
    if (text.length >= LARGE_REPLY_BYTES) session.setReplyHeld(true);
    outbox.deliver(session, text, () => session.setReplyHeld(false));
  }
  outbox.send(session, { type: 'synced', timestamp: ctx.document.clock });
  notifyDocumentChanged(ctx, documentPatches);
}
