import { randomUUID } from 'node:crypto';
import { ClockedDocument } from '../document/clocked-document.js';
import { createdBy } from '../document/created-keys.js';
import { EphemeralState } from '../document/ephemeral-state.js';
import type { RoomSnapshot } from '../document/room-snapshot.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { FrameError } from '../protocol/frame-error.js';
import type {
  AuthRefreshRequest,
  ClientMessage,
  ErrorResponse,
  Patch,
  PatchBroadcast,
  PatchRequest,
  ReconnectRequest,
  ServerMessage,
} from '../protocol/messages.js';
import { checkPatchList, parseClientFrame } from '../protocol/parse-client-frame.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { isIncrementalStorage, type Storage } from '../storage/storage.js';
import type { CommitStats } from './commit-pipeline.js';
import { decodeMessage } from './decode-message.js';
import { RoomClosedError, RoomFullError } from './errors.js';
import { consoleLogger, type Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { LARGE_REPLY_BYTES, type RoomLimits, resolveRoomLimits } from './room-limits.js';
import type { RoomObserver } from './room-observer.js';
import { DEFAULT_SAVE_THROTTLE_MS, type RoomOptions } from './room-options.js';
import { RoomPersistence } from './room-persistence.js';
import { type QuotaRefusal, quotaRefusal } from './room-quotas.js';
import {
  isSessionPermission,
  Session,
  type SessionInfo,
  type SessionPermission,
  type SessionTokenRefresher,
  type TokenRefreshResult,
} from './session.js';
import type { PersistenceStats } from './snapshot-persistence.js';
import type { WebSocketLike } from './web-socket-like.js';

/** Options of {@link Room.handleSocketConnect}. */
export interface SocketConnectOptions {
  socket: WebSocketLike;
  clientId: string;
  permissions: SessionPermission;
  /** Any per-session value the room holds for you. */
  metadata?: unknown;
  /** Re-authorizes this session on `auth-refresh`; overrides the room's `onTokenRefresh`. */
  onTokenRefresh?: SessionTokenRefresher;
}

/** Counters of one room, for metrics and tests. */
export interface RoomStats extends PersistenceStats, CommitStats {
  framesReceived: number;
  framesRejected: number;
}

/** Observer of session changes, used by {@link RoomManager} for idle closing. */
export type SessionCountListener = (room: Room, count: number) => void;

function hasKeys(patch: Patch): boolean {
  for (const _ in patch) return true;
  return false;
}

/** The patches that hold at least one key; the same array when all do (the common case, no allocation). */
function nonEmpty(patches: readonly Patch[] | undefined): Patch[] {
  if (!patches) return [];
  return patches.every(hasKeys) ? (patches as Patch[]) : patches.filter(hasKeys);
}

/**
 * One shared document and its sessions: applies writes by the clocked-document
 * rules, acks and broadcasts them in order, holds ephemeral state and persists
 * through a {@link Storage}.
 *
 * @example
 * ```ts
 * const room = new Room({
 *   storage: new FileStorage({ dir: './data', roomId: 'my-room' }),
 *   onSessionRemoved: (room, { remaining }) => { if (remaining === 0) console.log('Room empty'); },
 * });
 * await room.load();
 * const sessionId = room.handleSocketConnect({ socket, clientId: 'client-uuid', permissions: 'readwrite' });
 * ws.on('message', (data) => room.handleSocketMessage(sessionId, String(data)));
 * ws.on('close', () => room.handleSocketClose(sessionId));
 * ```
 */
export class Room {
  private document: ClockedDocument;
  private readonly ephemeral = new EphemeralState();
  private readonly sessions = new Map<string, Session>();
  private readonly storage: Storage | undefined;
  private readonly persistence: RoomPersistence | undefined;
  private readonly limits: RoomLimits;
  private readonly logger: Logger;
  private readonly limitLog: RateLimitedLog;
  private readonly logContext: { roomId?: string };
  private readonly sessionCountListeners = new Set<SessionCountListener>();
  private readonly counters = { framesReceived: 0, framesRejected: 0 };
  private written = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: RoomOptions = {}) {
    this.limits = resolveRoomLimits(options.limits);
    this.logger = options.logger ?? consoleLogger;
    this.limitLog = new RateLimitedLog(this.logger);
    this.logContext = options.roomId === undefined ? {} : { roomId: options.roomId };
    this.document = options.initialSnapshot
      ? ClockedDocument.fromSnapshot(options.initialSnapshot)
      : new ClockedDocument();
    const storage = options.storage ?? options.createStorage?.();
    this.storage = storage;
    const saveThrottleMs = options.saveThrottleMs ?? DEFAULT_SAVE_THROTTLE_MS;
    if (!Number.isFinite(saveThrottleMs) || saveThrottleMs < 0) {
      throw new RangeError(`saveThrottleMs must be a non-negative number, got ${saveThrottleMs}`);
    }
    this.persistence = storage
      ? new RoomPersistence({
          storage,
          document: () => this.document,
          saveThrottleMs,
          logger: this.logger,
          logContext: this.logContext,
          onCommit: (event) =>
            this.observe((o) => o.commitFinished?.(event.durationMs, event.components, event.ok)),
        })
      : undefined;
  }

  /** The room's id when it was given one (rooms made by {@link RoomManager} always are). */
  get roomId(): string | undefined {
    return this.options.roomId;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Counters of frames and saves. */
  get stats(): RoomStats {
    return {
      ...this.counters,
      ...(this.persistence?.stats ?? {
        saves: 0,
        saveFailures: 0,
        commits: 0,
        commitFailures: 0,
        heldFrames: 0,
      }),
    };
  }

  /**
   * Loads state from storage. A storage that fails (or returns a malformed
   * snapshot) makes this reject and the room must not be used (SPEC P3).
   */
  async load(): Promise<void> {
    if (!this.storage) return;
    if (isIncrementalStorage(this.storage) && this.storage.loadComponents) {
      const stored = await this.storage.loadComponents();
      if (stored === null || stored === undefined) return;
      if (this.written) throw new Error('Room.load() must be called before the room is first written');
      this.document = ClockedDocument.fromComponents(stored.timestamp, stored.components);
      return;
    }
    const snapshot = await this.storage.load();
    if (snapshot === null || snapshot === undefined) return;
    if (this.written) throw new Error('Room.load() must be called before the room is first written');
    this.document = ClockedDocument.fromSnapshot(snapshot);
  }

  /**
   * Registers a new, already authenticated connection and returns its session id.
   * Broadcasts the new client count (SPEC S1) and sends the other clients'
   * ephemeral state (SPEC E2).
   *
   * @throws {@link RoomClosedError} when the room is closed, {@link RoomFullError} when it is full.
   */
  handleSocketConnect(options: SocketConnectOptions): string {
    if (this.closed) throw new RoomClosedError(this.roomId);
    if (typeof options.clientId !== 'string' || options.clientId === '') {
      throw new TypeError('clientId must be a non-empty string');
    }
    if (!isSessionPermission(options.permissions)) {
      throw new TypeError(
        `permissions must be 'readonly' or 'readwrite', got ${String(options.permissions)}`,
      );
    }
    if (this.sessions.size >= this.limits.maxSessionsPerRoom) {
      throw new RoomFullError(this.limits.maxSessionsPerRoom);
    }
    const sessionId = randomUUID();
    const session = new Session(
      sessionId,
      options.clientId,
      options.socket,
      options.permissions,
      options.metadata,
      this.limits,
      options.onTokenRefresh,
    );
    this.sessions.set(sessionId, session);
    this.broadcastClientCount();
    const others = this.ephemeral.othersThan(session.clientId);
    if (others) this.send(session, { type: 'patch', clientId: '', ephemeralPatches: [others] });
    this.notifySessionCount();
    return sessionId;
  }

  /**
   * Processes one incoming WebSocket message. Never throws, whatever the
   * message holds (SPEC B1): an invalid frame changes nothing and is answered
   * with an `error` frame (SPEC B2, B3).
   */
  handleSocketMessage(sessionId: string, data: string): void {
    try {
      const session = this.sessions.get(sessionId);
      if (!session || session.closed) return;
      const text = decodeMessage(data);
      if (session.busy) {
        if (session.inbox.length >= this.limits.maxQueuedFrames) {
          this.limitHit(
            session,
            'maxQueuedFrames',
            'session closed: too many frames held during auth-refresh',
          );
          this.dropSession(session, CloseCode.TooManyPendingFrames, 'too many frames while busy');
          return;
        }
        // B6: held frames are bounded by size too, or a few large ones would hold megabytes each.
        if (session.inboxChars + text.length > this.limits.maxQueuedBytes) {
          this.limitHit(session, 'maxQueuedBytes', 'session closed: too many bytes held during auth-refresh');
          this.dropSession(session, CloseCode.TooManyPendingFrames, 'too many bytes while busy');
          return;
        }
        session.inbox.push(text);
        session.inboxChars += text.length;
        return;
      }
      this.processFrame(session, text);
    } catch (error) {
      this.logger.error({ ...this.logContext, sessionId, err: error }, 'unexpected error handling a frame');
    }
  }

  /** Handles a closed connection: removes the session (SPEC S1, S2, E3). */
  handleSocketClose(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (session) this.removeSession(session);
  }

  /** Handles a socket error: closes the socket and removes the session. */
  handleSocketError(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (session) this.dropSession(session, CloseCode.GoingAway, 'socket error');
  }

  /**
   * Closes one session's socket with `code` and removes the session, as if it
   * had disconnected. Unknown sessions are ignored.
   */
  closeSession(sessionId: string, code: number = CloseCode.GoingAway, reason = 'closed by the server'): void {
    const session = this.sessions.get(sessionId);
    if (session) this.dropSession(session, code, reason);
  }

  /** The live document (no tombstones), its per-field stamps and the clock (SPEC D10). */
  getSnapshot(): RoomSnapshot {
    return this.document.toSnapshot({ includeTombstones: false });
  }

  /** The current room clock. */
  getTimestamp(): number {
    return this.document.clock;
  }

  /** Number of connected sessions. */
  getSessionCount(): number {
    return this.sessions.size;
  }

  /** Every session's id, client id, permission and metadata. */
  getSessions(): SessionInfo[] {
    return Array.from(this.sessions.values(), (session) => session.info());
  }

  /** The permission of a session, or undefined for an unknown session. */
  getSessionPermissions(sessionId: string): SessionPermission | undefined {
    return this.sessions.get(sessionId)?.permissions;
  }

  /** Changes the permission of a session; unknown sessions are ignored. */
  setSessionPermissions(sessionId: string, permissions: SessionPermission): void {
    if (!isSessionPermission(permissions)) {
      throw new TypeError(`permissions must be 'readonly' or 'readwrite', got ${String(permissions)}`);
    }
    const session = this.sessions.get(sessionId);
    if (session) session.permissions = permissions;
  }

  /** The metadata attached to a session via `handleSocketConnect` or `onTokenRefresh`. */
  getSessionMetadata(sessionId: string): unknown {
    return this.sessions.get(sessionId)?.metadata;
  }

  /** Replaces the metadata of a session. */
  setSessionMetadata(sessionId: string, metadata: unknown): void {
    const session = this.sessions.get(sessionId);
    if (session) session.metadata = metadata;
  }

  /**
   * Applies a document patch as the server: validated like a client frame,
   * stamped with a new clock, persisted and broadcast to every session with
   * `clientId: ''`.
   *
   * @returns the new clock (unchanged when the patches held no keys).
   * @throws TypeError when the patches are malformed; nothing is applied then.
   */
  applyServerPatch(patches: Patch[]): number {
    if (this.closed) throw new RoomClosedError(this.roomId);
    const checked = checkPatchList(patches, this.limits);
    if (!checked.ok) throw new TypeError(`invalid patch (${checked.error.code}): ${checked.error.message}`);
    const documentPatches = nonEmpty(checked.patches);
    if (documentPatches.length === 0) return this.document.clock;
    const timestamp = this.writeDocument(documentPatches);
    this.broadcast(null, { type: 'patch', clientId: '', documentPatches, timestamp });
    this.notifyDocumentChanged(documentPatches);
    return timestamp;
  }

  /** Commits and saves everything written so far, resolving once it is stored. */
  async flush(): Promise<void> {
    await this.persistence?.flush();
  }

  /**
   * Closes every connection ("going away") and, unless `flush: false`, saves
   * the room. Resolves once saved; calling it again returns the same promise.
   */
  close(options: { flush?: boolean } = {}): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const session of this.sessions.values()) {
      session.closed = true;
      this.closeSocket(session, CloseCode.GoingAway, 'room closed');
    }
    this.sessions.clear();
    this.closing = this.persistence?.close(options.flush ?? true) ?? Promise.resolve();
    // The seed's close() returns void, so callers may ignore the promise: a
    // failed final save (already logged) must not become an unhandled rejection.
    this.closing.catch(() => {});
    return this.closing;
  }

  /**
   * Resolves once a closed room's data is stored: at once when its final save
   * succeeded, later when a failed final save is retried successfully.
   */
  whenPersisted(): Promise<void> {
    if (!this.closing) return Promise.resolve();
    return this.closing.catch(() => this.persistence?.whenPersisted());
  }

  /** @internal Observes session count changes (used by RoomManager). */
  watchSessionCount(listener: SessionCountListener): () => void {
    this.sessionCountListeners.add(listener);
    return () => this.sessionCountListeners.delete(listener);
  }

  private processFrame(session: Session, text: string): void {
    const receivedAt = performance.now();
    this.counters.framesReceived++;
    // Size first: an oversized frame is refused as such, and never charged to the rate limits.
    const bytes = text.length > this.limits.maxFrameBytes ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes > this.limits.maxFrameBytes) {
      this.counters.framesRejected++;
      this.observe((o) => o.frameRejected?.('frame-too-large'));
      this.sendError(session, {
        code: 'frame-too-large',
        message: `frame exceeds ${this.limits.maxFrameBytes} bytes`,
      });
      this.dropSession(session, CloseCode.FrameTooLarge, 'frame too large');
      return;
    }
    if (!session.withinRate(bytes)) {
      this.counters.framesRejected++;
      this.observe((o) => o.frameRejected?.('rate-limited'));
      this.sendError(session, { code: 'rate-limited', message: 'frame or byte rate limit exceeded' });
      this.dropSession(session, CloseCode.RateLimited, 'rate limit exceeded');
      return;
    }
    const result = parseClientFrame(text, this.limits);
    if (!result.ok) {
      this.counters.framesRejected++;
      const code = result.error.code;
      this.observe((o) => o.frameRejected?.(code));
      if (code === 'buffer-budget-exceeded')
        this.limitHit(session, 'maxBufferEntriesPerFrame', 'frame refused: buffer budget');
      this.sendError(session, result.error);
      if (!session.countInvalidFrame()) {
        this.dropSession(session, CloseCode.InvalidFrames, 'too many invalid frames');
      }
      return;
    }
    const type = result.frame.type;
    this.observe((o) => o.frameAccepted?.(type, bytes));
    this.dispatch(session, result.frame, receivedAt);
  }

  private dispatch(session: Session, frame: ClientMessage, receivedAt: number): void {
    switch (frame.type) {
      case 'patch':
        this.handlePatch(session, frame, receivedAt);
        return;
      case 'reconnect':
        this.handleReconnect(session, frame);
        return;
      case 'auth-refresh':
        this.handleAuthRefresh(session, frame);
        return;
      default: {
        const unreachable: never = frame;
        throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private handlePatch(session: Session, frame: PatchRequest, receivedAt: number): void {
    const documentPatches = nonEmpty(frame.documentPatches);
    const ephemeralPatches = nonEmpty(frame.ephemeralPatches);
    if (documentPatches.length === 0 && ephemeralPatches.length === 0) return; // A1: nothing to ack
    if (session.permissions === 'readonly') {
      // A2: acked, neither applied nor broadcast.
      this.send(session, { type: 'ack', messageId: frame.messageId, timestamp: this.document.clock });
      return;
    }
    const refusal = this.quotaRefusal(session, documentPatches, ephemeralPatches);
    if (refusal) {
      this.refuseWrite(session, refusal, frame.messageId);
      return;
    }
    const broadcast = this.applyWrite(session, documentPatches, ephemeralPatches);
    const ack = JSON.stringify({ type: 'ack', messageId: frame.messageId, timestamp: this.document.clock });
    this.deliver(session, ack, () => this.observe((o) => o.writeAcked?.(performance.now() - receivedAt)));
    if (broadcast) this.broadcast(session, broadcast);
    this.notifyDocumentChanged(documentPatches);
  }

  private handleReconnect(session: Session, frame: ReconnectRequest): void {
    if (frame.protocolVersion !== PROTOCOL_VERSION) {
      this.send(session, { type: 'version-mismatch', serverProtocolVersion: PROTOCOL_VERSION });
      return;
    }
    if (session.replyHeld) {
      // B6: one reconnect reply may wait per session; asking again before it left is amplification.
      this.limitHit(session, 'reconnectReplies', 'session closed: reconnect while its last reply is queued');
      this.dropSession(session, CloseCode.SlowConsumer, 'reconnect reply still queued');
      return;
    }
    const clockBefore = this.document.clock;
    const rolledBack = frame.lastTimestamp > clockBefore;
    let documentPatches = session.permissions === 'readwrite' ? nonEmpty(frame.documentPatches) : [];
    if (session.permissions === 'readwrite') {
      // D8: the client saw writes this server no longer has; ask for them back first.
      if (rolledBack) this.send(session, { type: 'resync', since: clockBefore });
      const ephemeralPatches = nonEmpty(frame.ephemeralPatches);
      const refusal = this.quotaRefusal(session, documentPatches, ephemeralPatches);
      if (refusal) {
        // B7: the offline edits are refused whole; the reconnect itself is still answered.
        this.refuseWrite(session, refusal, undefined);
        documentPatches = [];
      } else {
        const broadcast = this.applyWrite(session, documentPatches, ephemeralPatches);
        if (broadcast) this.broadcast(session, broadcast);
      }
    }
    // After a rollback the client's clock belongs to a history this server lost,
    // so nothing can be assumed known: reply with the whole document.
    const since = rolledBack ? 0 : frame.lastTimestamp;
    const documentChanges = this.document.reconnectPatches(since, createdBy(documentPatches));
    const others = this.ephemeral.othersThan(session.clientId);
    if (documentChanges.length > 0 || others) {
      const reply: PatchBroadcast = { type: 'patch', clientId: '' };
      if (documentChanges.length > 0) {
        reply.documentPatches = documentChanges;
        reply.timestamp = this.document.clock;
      }
      if (others) reply.ephemeralPatches = [others];
      const text = JSON.stringify(reply);
      // B6: mark a large reply while it waits for durability; the transport bounds it once sent.
      if (text.length >= LARGE_REPLY_BYTES) session.replyHeld = true;
      this.deliver(session, text, () => {
        session.replyHeld = false;
      });
    }
    this.send(session, { type: 'synced', timestamp: this.document.clock });
    this.notifyDocumentChanged(documentPatches);
  }

  private handleAuthRefresh(session: Session, frame: AuthRefreshRequest): void {
    const roomRefresh = this.options.onTokenRefresh;
    const refresh: SessionTokenRefresher | undefined =
      session.refreshToken ??
      (roomRefresh
        ? (token) => roomRefresh(this, { sessionId: session.sessionId, clientId: session.clientId, token })
        : undefined);
    if (!refresh) {
      this.sendError(session, {
        code: 'auth-refresh-unsupported',
        message: 'this room does not accept auth-refresh frames',
      });
      return;
    }
    // O1: frames after the refresh wait for its verdict, which may change permissions.
    session.busy = true;
    const onRefused = (error: unknown) => {
      this.logger.warn(
        { ...this.logContext, sessionId: session.sessionId, err: error },
        'auth-refresh refused',
      );
      this.dropSession(session, CloseCode.Forbidden, 'auth refresh refused');
    };
    let outcome: TokenRefreshResult | Promise<TokenRefreshResult>;
    try {
      outcome = refresh(frame.token);
    } catch (error) {
      onRefused(error);
      return;
    }
    Promise.resolve(outcome).then(
      (result) => {
        if (session.closed) return;
        if (!result || !isSessionPermission(result.permissions)) {
          onRefused(new TypeError('token refresh returned no valid permissions'));
          return;
        }
        session.permissions = result.permissions;
        if (result.metadata !== undefined) session.metadata = result.metadata;
        this.resume(session);
      },
      (error: unknown) => {
        if (!session.closed) onRefused(error);
      },
    );
  }

  /** Processes frames held while the session was busy, until it is busy again or they run out. */
  private resume(session: Session): void {
    session.busy = false;
    while (!session.busy && !session.closed && session.inbox.length > 0) {
      const next = session.inbox.shift() as string;
      session.inboxChars -= next.length;
      try {
        this.processFrame(session, next);
      } catch (error) {
        this.logger.error({ ...this.logContext, err: error }, 'unexpected error handling a held frame');
      }
    }
  }

  /**
   * Applies a readwrite session's document and ephemeral patches and returns
   * the broadcast for the other sessions (SPEC A3: both parts in one frame).
   */
  private applyWrite(
    session: Session,
    documentPatches: Patch[],
    ephemeralPatches: Patch[],
  ): PatchBroadcast | null {
    if (documentPatches.length === 0 && ephemeralPatches.length === 0) return null;
    const broadcast: PatchBroadcast = { type: 'patch', clientId: session.clientId };
    if (documentPatches.length > 0) {
      broadcast.documentPatches = documentPatches;
      broadcast.timestamp = this.writeDocument(documentPatches);
    }
    if (ephemeralPatches.length > 0) {
      this.ephemeral.apply(session.clientId, ephemeralPatches);
      broadcast.ephemeralPatches = ephemeralPatches;
    }
    return broadcast;
  }

  private writeDocument(documentPatches: Patch[]): number {
    const timestamp = this.document.applyPatches(documentPatches, this.persistence?.stage) as number;
    this.written = true;
    this.persistence?.written();
    return timestamp;
  }

  /**
   * Runs the change callbacks once a write's ack and broadcasts are queued, so
   * a callback that writes (say, a server patch) comes after them (SPEC O2, O3).
   */
  private notifyDocumentChanged(documentPatches: Patch[]): void {
    if (documentPatches.length === 0) return;
    this.callback('onDocumentPatch', () => this.options.onDocumentPatch?.(this, documentPatches));
    this.callback('onDataChange', () => this.options.onDataChange?.(this));
  }

  private removeSession(session: Session): void {
    if (!this.sessions.delete(session.sessionId)) return;
    session.closed = true;
    const clientStillHere = Array.from(this.sessions.values()).some((s) => s.clientId === session.clientId);
    if (!clientStillHere) {
      // E3: the client's last session left; its presence goes with it.
      const deletions = this.ephemeral.forget(session.clientId);
      if (deletions)
        this.broadcast(null, { type: 'patch', clientId: session.clientId, ephemeralPatches: [deletions] });
    }
    this.broadcastClientCount();
    const remaining = this.sessions.size;
    this.callback('onSessionRemoved', () =>
      this.options.onSessionRemoved?.(this, { sessionId: session.sessionId, remaining }),
    );
    this.notifySessionCount();
  }

  private dropSession(session: Session, code: number, reason: string): void {
    if (!session.closed) this.closeSocket(session, code, reason);
    this.removeSession(session);
  }

  private closeSocket(session: Session, code: number, reason: string): void {
    session.closed = true;
    try {
      session.socket.close(code, reason);
    } catch (error) {
      this.logger.warn(
        { ...this.logContext, sessionId: session.sessionId, err: error },
        'socket close failed',
      );
    }
  }

  /** The quota a readwrite session's write would pass (SPEC B7), or null. */
  private quotaRefusal(
    session: Session,
    documentPatches: Patch[],
    ephemeralPatches: Patch[],
  ): QuotaRefusal | null {
    return quotaRefusal(
      this.document,
      this.ephemeral,
      session.clientId,
      documentPatches,
      ephemeralPatches,
      this.limits,
    );
  }

  /** Refuses a write that would pass a quota (SPEC B7): an `error` frame, nothing applied, no ack. */
  private refuseWrite(session: Session, refusal: QuotaRefusal, messageId: string | undefined): void {
    this.counters.framesRejected++;
    this.observe((o) => o.frameRejected?.(refusal.code));
    this.limitHit(session, refusal.limit, `write refused: ${refusal.code}`);
    const error: FrameError = { code: refusal.code, message: refusal.message };
    if (messageId !== undefined) error.messageId = messageId;
    this.sendError(session, error);
  }

  /** Counts a limit or quota a session hit and logs it at a bounded rate. */
  private limitHit(session: Session, limit: string, message: string): void {
    this.observe((o) => o.limitHit?.(limit));
    this.limitLog.log(
      limit,
      { ...this.logContext, sessionId: session.sessionId, clientId: session.clientId },
      message,
    );
  }

  private sendError(session: Session, error: FrameError): void {
    const frame: ErrorResponse = { type: 'error', code: error.code, message: error.message };
    if (error.messageId !== undefined) frame.messageId = error.messageId;
    this.send(session, frame);
  }

  private send(session: Session, message: ServerMessage): void {
    this.deliver(session, JSON.stringify(message));
  }

  /** Sends one frame to every session except `except`, serialising it once. */
  private broadcast(except: Session | null, message: ServerMessage): void {
    if (this.sessions.size === 0 || (except && this.sessions.size === 1)) return;
    const text = JSON.stringify(message);
    for (const session of this.sessions.values()) {
      if (session !== except) this.deliver(session, text);
    }
  }

  private broadcastClientCount(): void {
    this.broadcast(null, { type: 'clientCount', count: this.sessions.size });
  }

  /** Sends a frame, or holds it until the writes queued before it are durable (SPEC O4). */
  private deliver(session: Session, text: string, onSent?: () => void): void {
    const send = () => {
      this.sendNow(session, text);
      onSent?.();
    };
    if (this.persistence) this.persistence.deliver(send);
    else send();
  }

  private sendNow(session: Session, text: string): void {
    if (session.closed) return;
    try {
      session.socket.send(text);
    } catch (error) {
      this.logger.warn({ ...this.logContext, sessionId: session.sessionId, err: error }, 'send failed');
      this.dropSession(session, CloseCode.GoingAway, 'send failed');
    }
  }

  private notifySessionCount(): void {
    for (const listener of this.sessionCountListeners) {
      this.callback('session listener', () => listener(this, this.sessions.size));
    }
  }

  private observe(hook: (observer: RoomObserver) => void): void {
    const observer = this.options.observer;
    if (observer) this.callback('observer', () => hook(observer));
  }

  private callback(name: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logger.error({ ...this.logContext, err: error }, `${name} callback threw`);
    }
  }
}
