/**
 * The actors of the chaos convergence suite (chaos-convergence.test.ts) and
 * their bookkeeping:
 *
 * - {@link OurActor}: our client `canvas-store-client` on Node (`ws`, fast
 *   reconnect backoff), and {@link PublishedActor}: the published
 *   `@woven-ecs/canvas-store` `WebsocketAdapter` with an app model, as the
 *   interop harness drives it. Both edit through one {@link EditorActor}
 *   interface and remember the final value of the keys only they write
 *   ({@link EditorActor.own}), so the suite can check that nothing a client
 *   wrote (offline edits included) is missing on the server.
 * - {@link RawWriterActor}: the crash suite's acked {@link Writer} started in
 *   bursts, recording every ack in an {@link AckedModel}, so the set of acked
 *   writes is known exactly across SIGKILLs.
 * - {@link FrameTap}: watches every socket the editors open, to drop them all
 *   at once (reconnect storms) and to collect what must never happen: a
 *   `resync` (the server lost durable writes, SPEC D8 vs P2), an `error` frame
 *   (B3: our clients send only valid frames) and a clock going backwards on a
 *   socket (O2, O3).
 */
import { applyBufferDelta } from '@woven-ecs/canvas-store';
import { CanvasStoreClient } from 'canvas-store-client';
import { type RawData, WebSocket } from 'ws';
import {
  applyToModel,
  type ClientEnvironment,
  type ClientPatch,
  type DocModel,
  ORIGIN_WEBSOCKET,
  plain,
  TestClient,
  wireOf,
} from './client-harness.js';
import { ourClientBusy } from './convergence/peers.js';
import type { AckedModel } from './crash/wire-clients.js';
import { Writer } from './crash/wire-clients.js';
import { isDelta } from './reference-doc.js';
import { rawToString } from './serve-connections.js';

/** Fields of one component. */
export type Fields = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Frame tap

/** How clients construct sockets: `ws`'s `WebSocket`, or a subclass of it. */
export type SocketConstructor = new (address: string | URL) => WebSocket;

/**
 * Watches sockets: keeps each client's latest socket and records frames that
 * must never arrive in this suite.
 */
export class FrameTap {
  /** `resync` frames received: the server held a lower clock than a client had seen (lost writes). */
  readonly resyncs: string[] = [];
  /** `error` frames received: the server refused something a real client sent. */
  readonly errors: string[] = [];
  /** Acks, document patches or `synced` whose clock went backwards on one socket (O2, O3). */
  readonly outOfOrder: string[] = [];
  private readonly latest = new Map<string, WebSocket>();
  private readonly listeners = new Map<string, (frame: Record<string, unknown>) => void>();

  /**
   * Calls `listener` with every frame `clientId` receives, before the
   * client's own handlers see it (the tap listens first).
   */
  onFrame(clientId: string, listener: (frame: Record<string, unknown>) => void): void {
    this.listeners.set(clientId, listener);
  }

  /** The socket `clientId` opened most recently. */
  socketOf(clientId: string): WebSocket | undefined {
    return this.latest.get(clientId);
  }

  /** Starts watching `socket`, opened by `clientId`. */
  watch(socket: WebSocket, clientId: string): void {
    this.latest.set(clientId, socket);
    // Non-decreasing rather than increasing: an ephemeral-only write is acked with the current clock.
    let last: number | undefined;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(rawToString(data)) as Record<string, unknown>;
      } catch {
        this.errors.push(`${clientId}: unparseable frame from the server`);
        return;
      }
      if (frame.type === 'resync') this.resyncs.push(`${clientId}: ${JSON.stringify(frame)}`);
      if (frame.type === 'error') this.errors.push(`${clientId}: ${JSON.stringify(frame)}`);
      const clocked = frame.type === 'ack' || frame.type === 'patch' || frame.type === 'synced';
      if (clocked && typeof frame.timestamp === 'number') {
        if (last !== undefined && frame.timestamp < last) {
          this.outOfOrder.push(`${clientId}: ${JSON.stringify(frame).slice(0, 200)} after clock ${last}`);
        }
        last = frame.timestamp;
      }
      this.listeners.get(clientId)?.(frame);
    });
  }

  /** A subclass of `Base` whose instances are watched (the client id comes from the connect URL). */
  wrap(Base: SocketConstructor): SocketConstructor {
    const tap = this;
    return class TappedWebSocket extends Base {
      constructor(address: string | URL) {
        super(address);
        tap.watch(this, new URL(String(address)).searchParams.get('clientId') ?? '');
      }
    };
  }
}

// ---------------------------------------------------------------------------
// Editors

/** What the suite asks of a client that edits a room. */
export interface EditorActor {
  readonly kind: 'ours' | 'published';
  readonly clientId: string;
  readonly roomId: string;
  /**
   * Keys only this client writes, with the value it last gave them (null:
   * deleted). The server must end with exactly these.
   */
  readonly own: Map<string, Fields | null>;
  /** True while deliberately offline (an offline period). */
  readonly offline: boolean;
  /** The client's current view of `key` (undefined: absent or deleted). */
  view(key: string): Fields | undefined;
  /** The client's document (live components only), as plain JSON. */
  document(): DocModel;
  /** Writes some fields of a key: an update of the component it sees, else a new one (`_exists: true`). */
  update(key: string, fields: Fields): void;
  /** Creates an absent key as a whole component: `_exists: true` plus every field of its kind. */
  create(key: string, fields: Fields): void;
  /** Whether the client's app edits now (see {@link PublishedActor.canEdit}). */
  canEdit(): boolean;
  /** Whether the client can delete a key now without losing the deletion (see {@link PublishedActor.canRemove}). */
  canRemove(): boolean;
  /** Deletes a key. */
  remove(key: string): void;
  /** Replaces the numeric array `field` of a key that is never deleted. */
  setPoints(key: string, field: string, points: number[]): void;
  /** Edits of one key family made together (one frame for our client). */
  batch(fn: () => void): void;
  goOffline(): void;
  /** Ends an offline period (goes online again; the connection may take a while). */
  comeBack(): void;
  /** Drops the socket as a network failure would (the client reconnects by itself). */
  drop(): boolean;
  /** Applies what arrived from the server (the published adapter needs the app to pull). */
  pull(): void;
  /** Why the client is not idle and caught up with `roomClock`, or null. */
  busy(roomClock: number): string | null;
  close(): void;
}

/** Our client, `canvas-store-client`, built from the workspace package. */
export class OurActor implements EditorActor {
  readonly kind = 'ours';
  readonly own = new Map<string, Fields | null>();
  readonly client: CanvasStoreClient;
  private isOffline = false;

  constructor(
    readonly clientId: string,
    readonly roomId: string,
    url: string,
    private readonly tap: FrameTap,
  ) {
    // As packages/client/test/helpers/clients.ts: `ws`, fast reconnects, every edit sent at once.
    this.client = new CanvasStoreClient({
      url,
      roomId,
      clientId,
      token: 'chaos',
      WebSocket: tap.wrap(WebSocket),
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      sendIntervalMs: 0,
    });
  }

  get offline(): boolean {
    return this.isOffline;
  }

  view(key: string): Fields | undefined {
    const fields = this.client.get(key);
    return fields === undefined ? undefined : plain(fields);
  }

  document(): DocModel {
    return plain(Object.fromEntries(this.client.document)) as DocModel;
  }

  update(key: string, fields: Fields): void {
    this.client.set(key, fields);
  }

  create(key: string, fields: Fields): void {
    // `set` on an absent key sends `_exists: true` plus the fields; the suite only creates absent keys.
    if (this.client.get(key) !== undefined) throw new Error(`${this.clientId}: ${key} is not absent`);
    this.client.set(key, fields);
  }

  canEdit(): boolean {
    return true;
  }

  canRemove(): boolean {
    return true;
  }

  remove(key: string): void {
    this.client.delete(key);
  }

  setPoints(key: string, field: string, points: number[]): void {
    this.client.setArray(key, field, points);
  }

  batch(fn: () => void): void {
    this.client.transact(fn);
  }

  goOffline(): void {
    this.isOffline = true;
    this.client.disconnect();
  }

  comeBack(): void {
    this.isOffline = false;
    this.client.connect();
  }

  drop(): boolean {
    const socket = this.tap.socketOf(this.clientId);
    if (this.isOffline || socket?.readyState !== WebSocket.OPEN) return false;
    socket.terminate();
    return true;
  }

  pull(): void {}

  busy(): string | null {
    if (this.isOffline) return 'offline period not ended';
    return ourClientBusy(this.client);
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Applies a pulled patch to the app model as the published client's store
 * does, buffer deltas included: our client sends numeric arrays as deltas and
 * the server may forward them as received (SPEC D6), so the app materialises
 * them against its array (with the published package's own `applyBufferDelta`).
 */
function applyMaterialized(model: DocModel, patch: ClientPatch): void {
  const materialized: ClientPatch = {};
  for (const [key, value] of Object.entries(patch)) {
    const fields: Record<string, unknown> = { ...value };
    const base = value._exists === false ? undefined : model[key];
    for (const [field, fieldValue] of Object.entries(value)) {
      if (!isDelta(fieldValue)) continue;
      const previous = base?.[field];
      fields[field] = applyBufferDelta(
        Array.isArray(previous) ? (previous as number[]) : undefined,
        fieldValue,
      );
    }
    materialized[key] = fields as ClientPatch[string];
  }
  applyToModel(model, materialized);
}

/** The interop harness's {@link TestClient}, pulling buffer deltas into whole arrays. */
class MaterializingTestClient extends TestClient {
  override pull(): number {
    const mutations = this.adapter.pull();
    for (const mutation of mutations) {
      if (mutation.origin !== ORIGIN_WEBSOCKET) {
        throw new Error(`pulled a mutation of origin ${mutation.origin}`);
      }
      if (mutation.syncBehavior === 'document') applyMaterialized(this.doc, mutation.patch);
      else if (mutation.syncBehavior === 'ephemeral') applyToModel(this.remoteEphemeral, mutation.patch);
    }
    // The adapter keeps its own mirror of the document from what is pushed back, as the real store does.
    if (mutations.length > 0) this.adapter.push(mutations);
    return mutations.length;
  }
}

/** Private state of the published adapter read (never written) to know what is unconfirmed. */
interface AdapterPending {
  inFlight: Map<string, unknown>;
  offlineBuffer: Record<string, unknown>;
}

/**
 * The published `WebsocketAdapter` with an app model. Like the ECS, it creates
 * a component with `_exists: true` and its fields, updates it with the fields
 * that changed (numeric arrays whole), and deletes with `{ _exists: false }`.
 * The app loop around it keeps clear of adapter behaviours that lose or hide
 * data whatever the server does: see {@link canEdit}, {@link canRemove} and
 * {@link pullIfOnline}.
 */
export class PublishedActor implements EditorActor {
  readonly kind = 'published';
  readonly own = new Map<string, Fields | null>();
  readonly client: TestClient;
  /** An offline period ended but its old socket was still closing. */
  private comingBack = false;

  constructor(
    readonly clientId: string,
    readonly roomId: string,
    url: string,
    env: ClientEnvironment,
    tap: FrameTap,
  ) {
    this.client = new MaterializingTestClient(clientId, roomId, url, env);
    // The reconnect reply is the frame before `synced`: pull it before any later broadcast arrives.
    tap.onFrame(clientId, (frame) => {
      if (frame.type === 'synced') this.pullIfOnline();
    });
  }

  /** Opens the first connection (resolves once the socket is open). */
  connect(): Promise<void> {
    return this.client.connect();
  }

  get offline(): boolean {
    return !this.client.wantsOnline;
  }

  view(key: string): Fields | undefined {
    const fields = this.client.doc[key];
    return fields === undefined ? undefined : plain(fields);
  }

  document(): DocModel {
    return plain(this.client.doc);
  }

  update(key: string, fields: Fields): void {
    this.pullIfOnline();
    this.client.edit({ [key]: this.client.doc[key] ? fields : { _exists: true, ...fields } });
  }

  create(key: string, fields: Fields): void {
    this.pullIfOnline();
    if (this.client.doc[key] !== undefined) throw new Error(`${this.clientId}: ${key} is not absent`);
    this.client.edit({ [key]: { _exists: true, ...fields } });
  }

  /**
   * Offline, or connected and synced: not between the `reconnect` frame and
   * its reply. The reply holds the adapter's own deletions from its offline
   * buffer, and an incoming deletion is never masked by a write in flight, so
   * a key re-created in that window would be deleted locally when the reply
   * arrives while the server keeps it.
   */
  canEdit(): boolean {
    return !this.client.adapter.isOnline || wireOf(this.clientId)?.synced === true;
  }

  /**
   * Only while connected with nothing unconfirmed. The adapter merges pending
   * patches with a rule meant for one batch: a deletion following a patch
   * that holds `_exists: true` cancels both. Merged into an offline buffer or
   * a requeue of writes in flight, that drops the deletion of a key whose
   * creation the server may already hold, and the key stays on the server
   * while the app deleted it.
   */
  canRemove(): boolean {
    const pending = this.client.adapter as unknown as Partial<AdapterPending>;
    if (!(pending.inFlight instanceof Map) || typeof pending.offlineBuffer !== 'object') {
      throw new Error('WebsocketAdapter internals changed: update chaos-actors.ts');
    }
    return (
      this.client.adapter.isOnline &&
      pending.inFlight.size === 0 &&
      Object.keys(pending.offlineBuffer).length === 0
    );
  }

  remove(key: string): void {
    this.pullIfOnline();
    if (!this.canRemove()) throw new Error(`${this.clientId}: cannot delete ${key} now`);
    this.client.edit({ [key]: { _exists: false } });
  }

  setPoints(key: string, field: string, points: number[]): void {
    this.update(key, { [field]: points });
  }

  batch(fn: () => void): void {
    fn();
  }

  goOffline(): void {
    this.client.disconnect();
  }

  comeBack(): void {
    this.client.wantsOnline = true;
    this.comingBack = !this.reconnectNow();
  }

  /**
   * Starts a connection when the adapter wants one and none is open or
   * opening; returns whether it did or one is open. Only a closed last socket
   * is replaced: the adapter's close handler clears its current socket
   * whatever socket closed, so reconnecting while the old one still closes
   * would leave it with two.
   */
  private reconnectNow(): boolean {
    if (!this.client.wantsOnline) return false;
    if (this.client.adapter.isOnline) return true;
    const socket = wireOf(this.clientId)?.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) return false;
    this.client.reconnect().catch(() => {
      // The server is down: the adapter's close handler has scheduled its own retry.
    });
    return true;
  }

  drop(): boolean {
    const socket = wireOf(this.clientId)?.socket;
    if (!this.client.wantsOnline || socket?.readyState !== WebSocket.OPEN) return false;
    socket.terminate();
    return true;
  }

  pull(): void {
    if (this.comingBack) this.comingBack = !this.reconnectNow();
    this.pullIfOnline();
  }

  /**
   * Pulls what arrived, as an app's frame does before its systems edit, but
   * only while connected, and as soon as a reconnect reply is complete.
   * Published-adapter behaviours make this timing matter (they are not about
   * the server):
   * - a pull that finds received patches empties the offline buffer, so
   *   pulling patches that arrived before the socket closed would discard the
   *   writes requeued from flight and the edits made offline since;
   * - a pull strips every received patch of the fields in the offline buffer,
   *   which was already sent with `reconnect`, so a broadcast that arrives
   *   after the reconnect reply but before the pull loses those fields (another
   *   client's later write stays invisible);
   * - an incoming deletion is never masked by a write in flight, so a
   *   reconnect reply holding the adapter's own buffered deletion, pulled after
   *   it re-created the key, deletes the key locally for good.
   */
  private pullIfOnline(): void {
    if (this.client.adapter.isOnline) this.client.pull();
  }

  busy(roomClock: number): string | null {
    if (!this.client.wantsOnline) return 'offline period not ended';
    const reason = this.client.busyReason(roomClock);
    return reason && this.comingBack ? `${reason}, waiting for its old socket to close` : reason;
  }

  close(): void {
    this.client.close();
  }
}

// ---------------------------------------------------------------------------
// Raw acked writers

/**
 * A {@link Writer} (crash suite) used in bursts: each burst opens a socket,
 * streams `size` acked writes and deletions of the writer's own keys, then
 * stops sending. A SIGKILL or a storm in the middle of a burst leaves writes
 * in flight: those are not in the {@link AckedModel}, and deletions in flight
 * make their key uncertain, exactly as in the crash suite.
 */
export class RawWriterActor {
  readonly writer: Writer;
  /** Acks received over the whole run. */
  acks = 0;
  /** Bursts cut short by a closed socket (a kill). */
  interrupted = 0;
  /** Bursts that connected. */
  bursts = 0;
  private serial = 0;
  private inBurst = 0;
  private burstSize = 0;
  private connected = false;
  private busyWith: Promise<void> | null = null;

  constructor(
    readonly clientId: string,
    readonly roomId: string,
    model: AckedModel,
  ) {
    this.writer = new Writer(clientId, roomId, model, () => this.onAck(), 4, 4);
  }

  private onAck(): void {
    this.acks++;
    this.inBurst++;
    if (this.inBurst >= this.burstSize) this.writer.stop();
  }

  /** Starts a burst of `size` operations unless one is starting; failures (server down) are expected. */
  burst(port: number, size: number): void {
    if (this.busyWith) return;
    this.busyWith = this.runBurst(port, size).finally(() => {
      this.busyWith = null;
    });
  }

  private async runBurst(port: number, size: number): Promise<void> {
    this.writer.terminate();
    this.connected = false;
    this.inBurst = 0;
    this.burstSize = size;
    const burst = ++this.serial;
    let closed: Promise<void>;
    try {
      ({ closed } = await this.writer.connect(port));
    } catch {
      return; // server down or killed while connecting
    }
    this.connected = true;
    this.bursts++;
    // The socket of an earlier burst may report its close late: only the current one counts.
    closed.then(
      () => {
        if (burst === this.serial) this.connected = false;
      },
      () => {
        if (burst === this.serial) this.connected = false;
        this.interrupted++;
      },
    );
    this.writer.go();
  }

  /** Acks of the current burst. */
  get acksInBurst(): number {
    return this.inBurst;
  }

  /** True while a burst's socket is open. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Waits for a burst being started, then closes the socket. */
  async stop(): Promise<void> {
    await this.busyWith;
    this.writer.terminate();
  }
}
