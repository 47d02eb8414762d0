import { type PatchBroadcast, PROTOCOL_VERSION } from 'canvas-store-protocol';
import { DEFAULT_FRAME_BUDGET, type FrameBudget, splitByBudget } from './frame-budget.js';
import type { LocalDocument } from './local-document.js';
import type { PresenceChange, PresenceState } from './presence.js';
import { parseServerFrame } from './server-frame.js';

/** What a {@link SyncSession} reports to its client. */
export interface SyncSessionHost {
  /** Sends one frame on the open socket. */
  send(frame: object): void;
  /** A fresh `messageId` (`<clientId>-<n>`). */
  nextMessageId(): string;
  /** Keys of the local view changed. */
  changed(keys: string[], origin: 'local' | 'remote'): void;
  presence(changes: PresenceChange[]): void;
  /** Caught up with the server at `timestamp`; writes may flow. */
  synced(timestamp: number): void;
  clientCount(count: number): void;
  error(code: string, message: string): void;
  versionMismatch(serverProtocolVersion: number): void;
}

/**
 * - `idle`: no open socket.
 * - `handshake`: `reconnect` sent, waiting for `synced`.
 * - `refreshing`: after a rollback (D8) a complete reply (`lastTimestamp: 0`)
 *   was asked for.
 * - `live`: synced; writes are sent and broadcasts applied as they come.
 */
type SyncPhase = 'idle' | 'handshake' | 'refreshing' | 'live';

/**
 * The protocol over one socket (SPEC section 3): the `reconnect` handshake with
 * the offline buffer, the reply and `synced` (D7), rollback heal (D8), writes
 * and their acks, broadcasts in server order (O2, O3).
 *
 * Broadcasts that arrive before `synced` are not applied: the reconnect reply
 * that precedes `synced` holds their effect, valued from current state.
 */
export class SyncSession {
  private phaseValue: SyncPhase = 'idle';
  /** The last clock seen on this socket; an ack above it means the write was applied. */
  private socketClock = 0;
  /** The frame just before `synced`, when it may be the reconnect reply. */
  private replyCandidate: PatchBroadcast | null = null;
  /** The current handshake asked for everything (`lastTimestamp: 0`). */
  private complete = false;
  /** The server asked for a resync: its clock went back, so ask for a complete reply. */
  private rolledBack = false;

  constructor(
    private readonly local: LocalDocument,
    private readonly presence: PresenceState,
    private readonly host: SyncSessionHost,
    private readonly budget: FrameBudget = DEFAULT_FRAME_BUDGET,
  ) {}

  get phase(): SyncPhase {
    return this.phaseValue;
  }

  /** The socket opened: send `reconnect` with our clock, the offline buffer and our presence. */
  opened(): void {
    const lastTimestamp = this.local.confirmed.clock;
    const documentPatches = this.local.takeForReconnect(this.budget);
    const ephemeralPatches = this.presence.takeForReconnect();
    this.phaseValue = 'handshake';
    this.socketClock = 0;
    this.replyCandidate = null;
    this.complete = lastTimestamp === 0;
    this.rolledBack = false;
    this.host.send({
      type: 'reconnect',
      lastTimestamp,
      protocolVersion: PROTOCOL_VERSION,
      ...(documentPatches.length > 0 && { documentPatches }),
      ...(ephemeralPatches && { ephemeralPatches }),
    });
  }

  /** The socket closed: unconfirmed writes go back to the buffer; others' presence is forgotten. */
  closed(): void {
    this.phaseValue = 'idle';
    this.replyCandidate = null;
    this.local.requeueUnconfirmed();
    this.host.presence(this.presence.socketClosed());
  }

  /**
   * Sends one `patch` frame with the buffered edits (as many as fit the frame
   * budget) and the presence update, when synced and there is something to
   * send. Returns whether it sent.
   */
  flush(): boolean {
    if (this.phaseValue !== 'live') return false;
    const hasDocument = this.local.buffer.size > 0;
    const ephemeralPatches = this.presence.takeUpdate();
    if (!hasDocument && !ephemeralPatches) return false;
    const messageId = this.host.nextMessageId();
    const documentPatches = hasDocument ? this.local.takeForWrite(messageId, this.budget) : [];
    this.host.send({
      type: 'patch',
      messageId,
      ...(documentPatches.length > 0 && { documentPatches }),
      ...(ephemeralPatches && { ephemeralPatches }),
    });
    return true;
  }

  /** Handles one frame from the server. Unknown or malformed frames are ignored. */
  handle(text: string): void {
    if (this.phaseValue === 'idle') return;
    const frame = parseServerFrame(text);
    if (!frame) return;
    const candidate = this.replyCandidate;
    this.replyCandidate = null;
    switch (frame.type) {
      case 'patch':
        this.onPatch(frame);
        return;
      case 'ack': {
        const applied = frame.timestamp > this.socketClock;
        this.socketClock = Math.max(this.socketClock, frame.timestamp);
        this.report(this.local.acknowledge(frame.messageId, frame.timestamp, applied));
        return;
      }
      case 'synced':
        this.onSynced(frame.timestamp, candidate);
        return;
      case 'resync':
        this.onResync(frame.since);
        return;
      case 'clientCount':
        this.host.clientCount(frame.count);
        return;
      case 'error':
        this.host.error(frame.code, frame.message);
        return;
      case 'version-mismatch':
        this.host.versionMismatch(frame.serverProtocolVersion);
        return;
    }
  }

  private onPatch(frame: PatchBroadcast): void {
    if (frame.ephemeralPatches && frame.ephemeralPatches.length > 0) {
      this.host.presence(this.presence.applyRemote(frame.ephemeralPatches));
    }
    // H3: a reply holding the whole document, even an empty one, replaces ours.
    if (isWholeDocumentReply(frame) && this.phaseValue !== 'live' && frame.clientId === '') {
      if (frame.timestamp !== undefined) this.socketClock = Math.max(this.socketClock, frame.timestamp);
      this.replyCandidate = frame;
      return;
    }
    const documentPatches = frame.documentPatches;
    if (!documentPatches || documentPatches.length === 0 || frame.timestamp === undefined) return;
    this.socketClock = Math.max(this.socketClock, frame.timestamp);
    if (this.phaseValue === 'live') {
      this.report(this.local.applyBroadcast(documentPatches, frame.timestamp));
      return;
    }
    // Before `synced`: a server-made patch may be the reconnect reply, which
    // is the frame right before `synced`. Other writes are covered by it.
    if (frame.clientId === '') this.replyCandidate = frame;
  }

  private onSynced(timestamp: number, candidate: PatchBroadcast | null): void {
    if (this.phaseValue === 'live') return;
    this.socketClock = Math.max(this.socketClock, timestamp);
    const reply = candidate?.documentPatches ?? [];
    if (!this.complete && this.rolledBack) {
      // The server lost writes (D8): our clock belongs to a history it no longer has,
      // so ask for everything once; a complete reply replaces our confirmed state exactly.
      this.phaseValue = 'refreshing';
      this.complete = true;
      this.host.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: PROTOCOL_VERSION });
      return;
    }
    // A reply marked `dropOthers` (SPEC H3) holds the whole document, like one asked from clock 0.
    const whole = this.complete || (candidate !== null && isWholeDocumentReply(candidate));
    const changed = this.local.applyReconnectReply(reply, timestamp, whole);
    this.phaseValue = 'live';
    this.report(changed);
    this.host.synced(timestamp);
  }

  private onResync(since: number): void {
    this.rolledBack = true;
    for (const part of splitByBudget(this.local.resyncAnswer(since), this.budget)) {
      const messageId = this.host.nextMessageId();
      const documentPatches = this.local.trackWrite(messageId, part);
      this.host.send({ type: 'patch', messageId, documentPatches });
    }
  }

  private report(keys: string[]): void {
    if (keys.length > 0) this.host.changed(keys, 'remote');
  }
}

/**
 * True for a reconnect reply marked `dropOthers` (SPEC H3): our clock was
 * older than the server's compaction horizon, so the reply is the whole live
 * document and every key it does not hold was deleted. The field is not in
 * the shared protocol types yet; read it here.
 */
function isWholeDocumentReply(frame: PatchBroadcast): boolean {
  return (
    (frame as PatchBroadcast & { dropOthers?: unknown }).dropOthers === true &&
    frame.documentPatches !== undefined
  );
}
