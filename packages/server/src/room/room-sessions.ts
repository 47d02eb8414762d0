import { randomUUID } from 'node:crypto';
import type { EphemeralState } from '../document/ephemeral-state.js';
import { RoomFullError } from './errors.js';
import type { Outbox } from './outbox.js';
import type { Room, SocketConnectOptions } from './room.js';
import type { RoomEvents } from './room-events.js';
import type { RoomLimits } from './room-limits.js';
import type { RoomOptions } from './room-options.js';
import { isSessionPermission, Session, type SessionInfo, type SessionPermission } from './session.js';

/** Observer of session changes, used by {@link RoomManager} for idle closing. */
export type SessionCountListener = (room: Room, count: number) => void;

/**
 * The sessions of one room and what joining and leaving announce: the client
 * count (SPEC S1), the removal callback (S2) and a departed client's presence (E3).
 */
export class RoomSessions {
  private readonly listeners = new Set<SessionCountListener>();
  /** Open sessions per `clientId`, so a leave knows whether its client stays without scanning the room (R3). */
  private readonly perClient = new Map<string, number>();

  constructor(
    /** Shared with the {@link Outbox}, which broadcasts to them. */
    private readonly byId: Map<string, Session>,
    private readonly room: Room,
    private readonly options: RoomOptions,
    private readonly ephemeral: EphemeralState,
    private readonly outbox: Outbox,
    private readonly events: RoomEvents,
    private readonly limits: RoomLimits,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  get(sessionId: string): Session | undefined {
    return this.byId.get(sessionId);
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  /**
   * Checks a new connection's client id, permission and the room's session
   * limit, then adds its session; returns the new session id.
   *
   * @throws TypeError for a bad client id or permission, {@link RoomFullError} when the room is full.
   */
  connect(options: SocketConnectOptions): string {
    if (typeof options.clientId !== 'string' || options.clientId === '') {
      throw new TypeError('clientId must be a non-empty string');
    }
    assertPermission(options.permissions);
    if (this.byId.size >= this.limits.maxSessionsPerRoom) {
      throw new RoomFullError(this.limits.maxSessionsPerRoom);
    }
    const session = new Session(
      randomUUID(),
      options.clientId,
      options.socket,
      options.permissions,
      options.metadata,
      this.limits,
      options.onTokenRefresh,
    );
    this.add(session);
    return session.sessionId;
  }

  /** Every session's id, client id, permission and metadata. */
  infos(): SessionInfo[] {
    return Array.from(this.byId.values(), (session) => session.info());
  }

  /** The permission of a session, or undefined for an unknown session. */
  permissionsOf(sessionId: string): SessionPermission | undefined {
    return this.byId.get(sessionId)?.permissions;
  }

  /** Changes the permission of a session; unknown sessions are ignored. */
  setPermissions(sessionId: string, permissions: SessionPermission): void {
    assertPermission(permissions);
    const session = this.byId.get(sessionId);
    if (session) session.permissions = permissions;
  }

  /** The metadata of a session, or undefined for an unknown session. */
  metadataOf(sessionId: string): unknown {
    return this.byId.get(sessionId)?.metadata;
  }

  /** Replaces the metadata of a session; unknown sessions are ignored. */
  setMetadata(sessionId: string, metadata: unknown): void {
    const session = this.byId.get(sessionId);
    if (session) session.metadata = metadata;
  }

  /** Removes the session with this id, if any, as {@link remove} does. */
  removeById(sessionId: string): void {
    const session = this.byId.get(sessionId);
    if (session) this.remove(session);
  }

  /** Closes the socket of the session with this id, if any, and removes it, as {@link drop} does. */
  dropById(sessionId: string, code: number, reason: string): void {
    const session = this.byId.get(sessionId);
    if (session) this.drop(session, code, reason);
  }

  /** Adds a session; announces the new count and sends it the others' ephemeral state (SPEC E2). */
  add(session: Session): void {
    this.byId.set(session.sessionId, session);
    this.perClient.set(session.clientId, (this.perClient.get(session.clientId) ?? 0) + 1);
    this.outbox.broadcastClientCount();
    const others = this.ephemeral.othersThan(session.clientId);
    if (others) this.outbox.send(session, { type: 'patch', clientId: '', ephemeralPatches: [others] });
    this.outbox.sessionJoined(session);
    this.notifyCount();
  }

  /** Removes a session whose socket is gone (or being closed). */
  remove(session: Session): void {
    if (!this.byId.delete(session.sessionId)) return;
    session.close();
    const left = (this.perClient.get(session.clientId) ?? 1) - 1;
    if (left > 0) this.perClient.set(session.clientId, left);
    else {
      this.perClient.delete(session.clientId);
      // E3: the client's last session left; its presence goes with it.
      const deletions = this.ephemeral.forget(session.clientId);
      if (deletions)
        this.outbox.broadcastWrite(null, {
          type: 'patch',
          clientId: session.clientId,
          ephemeralPatches: [deletions],
        });
    }
    this.outbox.broadcastClientCount();
    const remaining = this.byId.size;
    this.events.callback('onSessionRemoved', () =>
      this.options.onSessionRemoved?.(this.room, { sessionId: session.sessionId, remaining }),
    );
    this.notifyCount();
  }

  /** Closes a session's socket with `code` and removes the session. */
  drop(session: Session, code: number, reason: string): void {
    if (!session.closed) this.closeSocket(session, code, reason);
    this.remove(session);
  }

  /** Closes every socket and forgets every session, announcing nothing (the room is closing). */
  closeAll(code: number, reason: string): void {
    for (const session of this.byId.values()) {
      session.close();
      this.closeSocket(session, code, reason);
    }
    this.byId.clear();
    this.perClient.clear();
  }

  /** Calls `listener` after every join and leave; returns the unsubscribe. */
  watch(listener: SessionCountListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private closeSocket(session: Session, code: number, reason: string): void {
    session.close();
    try {
      session.socket.close(code, reason);
    } catch (error) {
      this.events.logger.warn(
        { ...this.events.logContext, sessionId: session.sessionId, err: error },
        'socket close failed',
      );
    }
  }

  private notifyCount(): void {
    for (const listener of this.listeners) {
      this.events.callback('session listener', () => listener(this.room, this.byId.size));
    }
  }
}

/** Rejects anything but the two permission strings, naming what was given. */
function assertPermission(permissions: unknown): asserts permissions is SessionPermission {
  if (!isSessionPermission(permissions)) {
    throw new TypeError(`permissions must be 'readonly' or 'readwrite', got ${String(permissions)}`);
  }
}
