import type { ComponentData } from 'canvas-store-protocol';
import { encodeBufferDelta } from './buffer-delta.js';
import type { ClientEvents, ClientListener, ConnectionStatus, DocumentView } from './client-events.js';
import type { CanvasStoreClientOptions, WebSocketConstructor } from './client-options.js';
import { ClientPersistence } from './client-persistence.js';
import { Connection, type ConnectionHandlers } from './connection.js';
import { EventEmitter } from './event-emitter.js';
import { DEFAULT_FRAME_BUDGET } from './frame-budget.js';
import { LocalDocument } from './local-document.js';
import type { PendingEdit } from './merge-patches.js';
import { PresenceState } from './presence.js';
import { randomClientId } from './random-id.js';
import { SyncSession, type SyncSessionHost } from './sync-session.js';
import { checkFields, checkName, WRITE_LIMITS } from './write-validation.js';

const DEFAULT_SEND_INTERVAL_MS = 33;

/**
 * A client of canvas-store-server (wire protocol 2) for browsers and Node:
 * a local, always-writable view of one room's document that syncs over a
 * WebSocket, keeps working offline, reconnects with backoff and converges
 * with every other client.
 *
 * Edits apply locally at once; edits of the same tick travel in one `patch`
 * frame. Offline, they are merged into one buffer sent with the next
 * `reconnect`. Broadcasts from other clients apply in server order; a field
 * this client is still writing keeps its local value until the server
 * confirms (SPEC O2), so every client ends with the server's state.
 *
 * @example
 * ```ts
 * import { CanvasStoreClient } from 'canvas-store-client';
 *
 * const client = new CanvasStoreClient({ url: 'wss://example.com/', roomId: 'board-1', token: 'secret' });
 * client.on('change', ({ keys }) => redraw(keys.map((key) => client.get(key))));
 * await client.whenSynced();
 * client.set('shape-1/Rect', { x: 10, y: 20, w: 100, h: 50 });
 * client.setArray('stroke-7/Stroke', 'points', [0, 0, 5, 8, 9, 12]);
 * client.setPresence({ name: 'Ada', cursor: [120, 80] });
 * ```
 */
export class CanvasStoreClient {
  /** This client's id (from the options, or a random UUID). */
  readonly clientId: string;
  /** The room this client syncs. */
  readonly roomId: string;

  private readonly events = new EventEmitter<ClientEvents>();
  private readonly local: LocalDocument;
  private readonly presenceState: PresenceState;
  private readonly connection: Connection;
  private readonly session: SyncSession;
  private readonly persistence: ClientPersistence | null;
  private readonly loaded: Promise<void>;
  private readonly sendIntervalMs: number;
  private clientCountValue = 0;
  /** The pending count last reported with a `saved` event. */
  private reportedPending = 0;
  private messageCounter = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSendAt = Number.NEGATIVE_INFINITY;
  private transactionDepth = 0;
  private readonly transactionKeys = new Set<string>();
  private syncWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private isClosed = false;

  constructor(options: CanvasStoreClientOptions) {
    if (!options || typeof options.url !== 'string' || options.url === '')
      throw new TypeError('url is required');
    if (typeof options.roomId !== 'string' || options.roomId === '')
      throw new TypeError('roomId is required');
    if (typeof options.token !== 'string' && typeof options.token !== 'function') {
      throw new TypeError('token must be a string or a function returning one');
    }
    const WebSocketImpl = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    if (!WebSocketImpl)
      throw new TypeError('no WebSocket implementation: pass options.WebSocket (e.g. from "ws")');
    this.roomId = options.roomId;
    this.clientId = options.clientId ?? randomClientId();
    this.sendIntervalMs = Math.max(0, options.sendIntervalMs ?? DEFAULT_SEND_INTERVAL_MS);
    this.local = new LocalDocument((key) => this.persistence?.markKey(key));
    this.presenceState = new PresenceState(this.clientId);
    this.persistence = options.persistence
      ? new ClientPersistence(this.local, (message) => this.emitError('persistence-failed', message))
      : null;
    this.loaded = this.loadPersisted(options.persistence?.indexedDbName);
    const budget = {
      maxFrameBytes: positive(options.frameLimits?.maxFrameBytes, DEFAULT_FRAME_BUDGET.maxFrameBytes),
      maxKeysPerFrame: positive(options.frameLimits?.maxKeysPerFrame, DEFAULT_FRAME_BUDGET.maxKeysPerFrame),
    };
    this.session = new SyncSession(this.local, this.presenceState, this.sessionHost(), budget);
    this.connection = new Connection(
      {
        url: options.url,
        roomId: options.roomId,
        clientId: this.clientId,
        token: options.token,
        WebSocket: WebSocketImpl,
        reconnect: options.reconnect,
        prepare: () => this.loaded,
      },
      this.connectionHandlers(),
    );
    if (!options.startOffline) this.connect();
  }

  /** `'connecting'` (opening or waiting to retry), `'online'` (socket open), `'offline'` or `'closed'`. */
  get status(): ConnectionStatus {
    return this.connection.status;
  }

  /** True once caught up with the server since the last (re)connect, until the socket closes. */
  get synced(): boolean {
    return this.session.phase === 'live';
  }

  /** Sessions in the room, as last reported by the server (0 while offline). */
  get clientCount(): number {
    return this.clientCountValue;
  }

  /**
   * The local view: server state plus this client's unconfirmed and offline
   * edits. Deleted keys are absent. Values are shared: treat them as immutable.
   */
  get document(): DocumentView {
    return this.local.document;
  }

  /** Other clients' presence, by client id. */
  get presence(): ReadonlyMap<string, Readonly<Record<string, unknown>>> {
    return this.presenceState.others;
  }

  /** The local view of one key, or `undefined` when absent or deleted. */
  get(key: string): Readonly<ComponentData> | undefined {
    return this.local.get(key);
  }

  /**
   * Writes fields of `key`. When the key is absent or deleted this creates a
   * fresh component (`_exists: true` plus `fields`, SPEC D5); otherwise it
   * updates just these fields (D3). Values must be JSON; they are copied.
   */
  set(key: string, fields: Record<string, unknown>): void {
    checkName(key, 'key');
    const data = JSON.parse(JSON.stringify(fields ?? {})) as ComponentData;
    delete data._exists;
    checkFields(data);
    if (this.local.get(key) === undefined)
      this.edit(key, { replace: false, data: { _exists: true, ...data } });
    else this.edit(key, { replace: false, data });
  }

  /** Deletes `key` (sends `{ _exists: false }`, SPEC D4). */
  delete(key: string): void {
    checkName(key, 'key');
    this.edit(key, { replace: false, data: { _exists: false } });
  }

  /**
   * Writes a numeric array field. It is sent as a buffer delta against the
   * value this client last saw or sent (SPEC D6) when that is smaller than
   * the whole array, else whole. Creates the component when absent.
   */
  setArray(key: string, field: string, values: readonly number[]): void {
    checkName(key, 'key');
    checkName(field, 'field name');
    if (field === '_exists') throw new TypeError('_exists is not an array field');
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new TypeError('values must be an array of numbers');
    }
    const list = Array.from(values);
    for (const v of list) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError('values must be finite numbers');
    }
    const current = this.local.get(key);
    if (current === undefined) {
      this.edit(key, { replace: false, data: { _exists: true, [field]: list } });
      return;
    }
    const previous = current[field];
    const base =
      Array.isArray(previous) && previous.every((v) => typeof v === 'number')
        ? (previous as number[])
        : undefined;
    const encoded = list.length > WRITE_LIMITS.maxBufferLength ? list : encodeBufferDelta(base, list);
    if (encoded === null) return;
    this.edit(key, { replace: false, data: { [field]: encoded } });
  }

  /** Runs `fn`; its edits travel in one frame and are reported in one `change` event. */
  transact(fn: () => void): void {
    this.transactionDepth++;
    try {
      fn();
    } finally {
      this.transactionDepth--;
      if (this.transactionDepth === 0 && this.transactionKeys.size > 0) {
        const keys = Array.from(this.transactionKeys);
        this.transactionKeys.clear();
        this.events.emit('change', { keys, origin: 'local' });
      }
    }
  }

  /** Sets this client's ephemeral presence (cursor, name, colour), replacing the previous one; `null` removes it. */
  setPresence(state: Record<string, unknown> | null): void {
    if (this.isClosed) return;
    this.presenceState.setOwn(state);
    this.scheduleFlush();
  }

  /** Goes online (again): connects now, with persisted state loaded first. */
  connect(): void {
    if (this.isClosed) return;
    this.connection.connect();
  }

  /** Goes offline deliberately: edits are buffered and nothing reconnects until {@link connect}. */
  disconnect(): void {
    this.connection.disconnect();
  }

  /** Disconnects for good and releases resources (timers, IndexedDB). Pending {@link whenSynced} promises reject. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.clearFlushTimer();
    this.connection.close();
    void this.persistence?.close();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error('the client was closed'));
  }

  /** Replaces the auth token: sends `auth-refresh` when online (SPEC C5) and uses it for later connects. */
  updateToken(token: string): void {
    if (typeof token !== 'string' || token === '') throw new TypeError('token must be a non-empty string');
    this.connection.updateToken(token);
  }

  /** Resolves when synced (at once if already); rejects if the client is closed first. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.isClosed) return Promise.reject(new Error('the client was closed'));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** Resolves once everything changed so far is stored in IndexedDB (at once without persistence). */
  async whenPersisted(): Promise<void> {
    await this.loaded;
    await this.persistence?.flushed();
  }

  /** Edits not yet confirmed by the server (sent or not), by key. */
  get pendingCount(): number {
    return this.local.unconfirmedKeyCount();
  }

  /**
   * True when the server has acknowledged every local edit (nothing buffered
   * offline, nothing in flight). A `saved` event reports each change of this
   * flag or of {@link pendingCount}.
   */
  get saved(): boolean {
    return this.pendingCount === 0;
  }

  /** Listens to an event; returns a function that removes the listener. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): () => void {
    return this.events.on(event, listener);
  }

  private sessionHost(): SyncSessionHost {
    return {
      send: (frame) => this.connection.send(JSON.stringify(frame)),
      nextMessageId: () => `${this.clientId}-${++this.messageCounter}`,
      changed: (keys, origin) => this.emitChange(keys, origin),
      presence: (changes) => {
        for (const change of changes) this.events.emit('presence', change);
      },
      synced: (timestamp) => this.onSynced(timestamp),
      clientCount: (count) => this.setClientCount(count),
      error: (code, message) => this.emitError(code, message),
      versionMismatch: (version) => {
        this.emitError('version-mismatch', `the server speaks protocol version ${version}`);
        this.close();
      },
    };
  }

  private connectionHandlers(): ConnectionHandlers {
    return {
      onOpen: () => this.session.opened(),
      onMessage: (data) => {
        this.session.handle(data);
        this.persistence?.schedule();
        this.reportSaved();
      },
      onClose: ({ code, reason }) => this.onSocketClosed(code, reason),
      onStatus: (status) => this.events.emit('status', { status }),
      onError: (error) => this.emitError(error.code, error.message),
    };
  }

  private edit(key: string, edit: PendingEdit): void {
    if (this.isClosed) return;
    const changed = this.local.edit(new Map([[key, edit]]));
    this.persistence?.schedule();
    this.emitChange(changed, 'local');
    this.reportSaved();
    this.scheduleFlush();
  }

  /** Emits `saved` when the number of unconfirmed keys changed since the last report. */
  private reportSaved(): void {
    const pending = this.pendingCount;
    if (pending === this.reportedPending) return;
    this.reportedPending = pending;
    this.events.emit('saved', { saved: pending === 0, pending });
  }

  private emitChange(keys: string[], origin: 'local' | 'remote'): void {
    if (keys.length === 0) return;
    if (origin === 'local' && this.transactionDepth > 0) {
      for (const key of keys) this.transactionKeys.add(key);
      return;
    }
    this.events.emit('change', { keys, origin });
  }

  private emitError(code: string, message: string): void {
    this.events.emit('error', { code, message });
  }

  private setClientCount(count: number): void {
    if (count === this.clientCountValue) return;
    this.clientCountValue = count;
    this.events.emit('clientCount', { count });
  }

  private onSynced(timestamp: number): void {
    this.connection.succeeded();
    this.events.emit('synced', { timestamp });
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    this.scheduleFlush();
  }

  private onSocketClosed(code: number, reason: string): void {
    this.clearFlushTimer();
    this.session.closed();
    this.persistence?.schedule();
    this.setClientCount(0);
    this.events.emit('close', { code, reason });
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.session.phase !== 'live') return;
    const wait = Math.max(0, this.lastSendAt + this.sendIntervalMs - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.session.flush()) {
        this.lastSendAt = Date.now();
        this.persistence?.schedule();
        // A buffer over the frame budget goes out in parts.
        if (this.local.buffer.size > 0) this.scheduleFlush();
      }
    }, wait);
  }

  private clearFlushTimer(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private async loadPersisted(name: string | undefined): Promise<void> {
    if (!this.persistence || name === undefined) return;
    try {
      const changed = await this.persistence.load(name, this.roomId);
      this.emitChange(changed, 'remote');
      // Edits reloaded from IndexedDB are unsaved until the server acks them.
      this.reportSaved();
    } catch (error) {
      this.emitError('persistence-failed', error instanceof Error ? error.message : String(error));
    }
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
