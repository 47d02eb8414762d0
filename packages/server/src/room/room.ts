import { CloseCode, type Patch } from 'canvas-store-protocol';
import type { ClockedDocument } from '../document/clocked-document.js';
import type { RoomSnapshot } from '../document/room-snapshot.js';
import type { HistoryPage } from '../storage/history.js';
import type { Storage, StoredRoom } from '../storage/storage.js';
import type { CommitStats } from './commit-pipeline.js';
import { decodeMessage } from './decode-message.js';
import { RoomClosedError } from './errors.js';
import { assembleRoom, type RoomParts } from './room-assembly.js';
import type { RoomOptions } from './room-options.js';
import { NO_PERSISTENCE_STATS } from './room-persistence.js';
import type { SessionCountListener } from './room-sessions.js';
import { writeRestore, writeServerPatch } from './server-writes.js';
import type { SessionInfo, SessionPermission, SessionTokenRefresher } from './session.js';
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
  /** Ephemeral keys and client counts waiting for the next presence tick (SPEC R1, R2). */
  pendingPresence: number;
}

export type { SessionCountListener } from './room-sessions.js';

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
  private readonly parts: RoomParts;
  /** Clocks older than this may have lost their tombstones in storage (SPEC H3); 0 when none did. */
  private tombstoneHorizon = 0;

  constructor(private readonly options: RoomOptions = {}) {
    this.parts = assembleRoom(this, options);
  }

  private get document(): ClockedDocument {
    return this.parts.document.current;
  }

  /** The room's id when it was given one (rooms made by {@link RoomManager} always are). */
  get roomId(): string | undefined {
    return this.options.roomId;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.parts.closing.isClosed;
  }

  /** Counters of frames and saves. */
  get stats(): RoomStats {
    return {
      ...this.parts.counters,
      pendingPresence: this.parts.presence?.pending ?? 0,
      ...(this.parts.persistence?.stats ?? NO_PERSISTENCE_STATS),
    };
  }

  /**
   * Loads state from storage. A storage that fails (or returns a malformed
   * snapshot) makes this reject and the room must not be used (SPEC P3).
   */
  async load(): Promise<void> {
    const loaded = await this.parts.persistence?.load();
    if (loaded) this.parts.document.current = loaded;
    const history = this.parts.persistence?.history;
    // With history off no tombstone is compacted, so no client is ever past a horizon.
    if (history?.keepsHistory()) this.tombstoneHorizon = await history.horizon();
  }

  /**
   * Registers a new, already authenticated connection and returns its session id.
   * Broadcasts the new client count (SPEC S1) and sends the other clients'
   * ephemeral state (SPEC E2).
   *
   * @throws {@link RoomClosedError} when the room is closed, {@link RoomFullError} when it is full.
   */
  handleSocketConnect(options: SocketConnectOptions): string {
    if (this.isClosed) throw new RoomClosedError(this.roomId);
    return this.parts.sessions.connect(options);
  }

  /**
   * Processes one incoming WebSocket message. Never throws, whatever the
   * message holds (SPEC B1): an invalid frame changes nothing and is answered
   * with an `error` frame (SPEC B2, B3).
   */
  handleSocketMessage(sessionId: string, data: string): void {
    this.receiveFrame(sessionId, data, decodeMessage);
  }

  /**
   * @internal Like {@link handleSocketMessage} for a frame already decoded to
   * text: the frames `acceptConnection` held while connecting were decoded
   * once on arrival (their queue is bounded by their size), not again here.
   */
  handleDecodedMessage(sessionId: string, text: string): void {
    this.receiveFrame(sessionId, text, (decoded) => decoded);
  }

  /** Handles a closed connection: removes the session (SPEC S1, S2, E3). */
  handleSocketClose(sessionId: string): void {
    this.parts.sessions.removeById(sessionId);
  }

  /** Handles a socket error: closes the socket and removes the session. */
  handleSocketError(sessionId: string): void {
    this.parts.sessions.dropById(sessionId, CloseCode.GoingAway, 'socket error');
  }

  /**
   * Closes one session's socket with `code` and removes the session, as if it
   * had disconnected. Unknown sessions are ignored.
   */
  closeSession(sessionId: string, code: number = CloseCode.GoingAway, reason = 'closed by the server'): void {
    this.parts.sessions.dropById(sessionId, code, reason);
  }

  /** The live document (no tombstones), its per-field stamps and the clock (SPEC D10). */
  getSnapshot(): RoomSnapshot {
    return this.document.toSnapshot({ includeTombstones: false });
  }

  /**
   * The whole document as storage keeps it (SPEC H4): every component with
   * its stamps, tombstones and deletion stamps included, and the clock.
   * Copies; what an export of the room holds.
   */
  getStoredState(): StoredRoom {
    return { timestamp: this.document.clock, components: this.document.readComponents(this.document.keys()) };
  }

  /** The current room clock. */
  getTimestamp(): number {
    return this.document.clock;
  }

  /** Number of connected sessions. */
  getSessionCount(): number {
    return this.parts.sessions.size;
  }

  /** Every session's id, client id, permission and metadata. */
  getSessions(): SessionInfo[] {
    return this.parts.sessions.infos();
  }

  /** The permission of a session, or undefined for an unknown session. */
  getSessionPermissions(sessionId: string): SessionPermission | undefined {
    return this.parts.sessions.permissionsOf(sessionId);
  }

  /** Changes the permission of a session; unknown sessions are ignored. */
  setSessionPermissions(sessionId: string, permissions: SessionPermission): void {
    this.parts.sessions.setPermissions(sessionId, permissions);
  }

  /** The metadata attached to a session via `handleSocketConnect` or `onTokenRefresh`. */
  getSessionMetadata(sessionId: string): unknown {
    return this.parts.sessions.metadataOf(sessionId);
  }

  /** Replaces the metadata of a session. */
  setSessionMetadata(sessionId: string, metadata: unknown): void {
    this.parts.sessions.setMetadata(sessionId, metadata);
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
    if (this.isClosed) throw new RoomClosedError(this.roomId);
    return writeServerPatch(this.parts.context, patches);
  }

  /**
   * Restores the document to its state at `clock` (SPEC H2): one ordinary
   * server write (author `''`) that deletes the keys that did not exist then
   * and sets the others to their values then; stored, kept in history and
   * broadcast like any write. Resolves with the new clock once it is stored
   * (the old clock when nothing differed).
   *
   * @throws {@link HistoryUnavailableError} when the storage keeps no history,
   *   `HistoryHorizonError` when `clock` is older than the horizon.
   */
  async restoreTo(clock: number): Promise<{ clock: number }> {
    const past = await this.readAt(clock);
    if (this.isClosed) throw new RoomClosedError(this.roomId);
    const timestamp = writeRestore(this.parts.context, past);
    await this.flush();
    return { clock: timestamp };
  }

  /**
   * The document (with stamps and tombstones) as it was at `clock` (SPEC H1),
   * once every write so far is stored.
   *
   * @throws {@link HistoryUnavailableError}, `HistoryHorizonError`, RangeError for a clock in the future.
   */
  readAt(clock: number): Promise<StoredRoom> {
    return this.parts.historyAccess.readAt(clock);
  }

  /** A page of the room's history, newest first (SPEC H1), once every write so far is stored. */
  listHistory(options: { before?: number; limit: number }): Promise<HistoryPage> {
    return this.parts.historyAccess.list(options);
  }

  /** The oldest clock whose state can still be read (SPEC H3). */
  historyHorizon(): Promise<number> {
    return this.parts.historyAccess.horizon();
  }

  /** @internal The clock below which a reconnecting client gets the whole document (SPEC H3). */
  get compactionHorizon(): number {
    return this.tombstoneHorizon;
  }

  /** Commits and saves everything written so far, resolving once it is stored. */
  async flush(): Promise<void> {
    await this.parts.persistence?.flush();
  }

  /**
   * Closes every connection ("going away") and, unless `flush: false`, saves
   * the room. Resolves once saved; calling it again returns the same promise.
   */
  close(options: { flush?: boolean } = {}): Promise<void> {
    return this.parts.closing.close(options.flush ?? true);
  }

  /**
   * Stops retrying a failed final save (cluster mode: this process lost the
   * room's lease, so the save can never succeed, and what it held was never acked).
   */
  abandonSaving(): void {
    this.parts.closing.abandonSaving();
  }

  /**
   * Resolves once a closed room's data is stored: at once when its final save
   * succeeded, later when a failed final save is retried successfully.
   */
  whenPersisted(): Promise<void> {
    return this.parts.closing.whenPersisted();
  }

  /** @internal Observes session count changes (used by RoomManager). */
  watchSessionCount(listener: SessionCountListener): () => void {
    return this.parts.sessions.watch(listener);
  }

  private receiveFrame<T>(sessionId: string, data: T, toText: (data: T) => string): void {
    try {
      const session = this.parts.sessions.get(sessionId);
      if (!session || session.closed) return;
      this.parts.intake.receive(session, toText(data));
    } catch (error) {
      const { logger, logContext } = this.parts.events;
      logger.error({ ...logContext, sessionId, err: error }, 'unexpected error handling a frame');
    }
  }
}
