/**
 * Harness for driving the published `@woven-ecs/canvas-store` client
 * (`WebsocketAdapter`) against our server over real sockets.
 *
 * - {@link TestServer}: a `ws` WebSocketServer on 127.0.0.1 wired to the library
 *   exactly like the example server of docs/library.md, restartable on the same port.
 * - {@link TestClient}: one app instance: a `WebsocketAdapter` plus the app's own
 *   document and remote-ephemeral models, kept the way the real store keeps them.
 * - {@link installClientEnvironment}: the global `WebSocket` the adapter needs on
 *   Node 20 (a `ws` subclass that also records what each client receives) and a
 *   controllable `performance.now` so every edit is sent at once.
 * - {@link settle}: polls until clients and server are quiescent.
 */
import type { AddressInfo } from 'node:net';
import { WebsocketAdapter } from '@woven-ecs/canvas-store';
import { vi } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import {
  acceptConnection,
  type Room,
  RoomManager,
  type RoomManagerOptions,
  type RoomSnapshot,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { clientApplyPatch } from './reference-doc.js';
import { rawToString, serveEveryone } from './serve-connections.js';

/** A mutation as the adapter's `push` takes and its `pull` returns. */
type ClientMutation = Parameters<WebsocketAdapter['push']>[0][number];
/** A patch as the client library types it. */
export type ClientPatch = ClientMutation['patch'];
/** An app's model of a document (or of remote ephemeral state): key to fields. */
export type DocModel = Record<string, Record<string, unknown>>;

/** `Origin.ECS` of the client library: a local edit. */
const ORIGIN_ECS = 1;
/** `Origin.Websocket` of the client library: a change that came from the server. */
export const ORIGIN_WEBSOCKET = 4;

/** Generous overall limit for polls; they normally finish in milliseconds. */
const POLL_TIMEOUT_MS = 25_000;
const POLL_INTERVAL_MS = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds; throws with `describe()` if it never does within the timeout. */
export async function waitFor(
  condition: () => boolean,
  describe: () => string,
  timeoutMs = POLL_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${describe()}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

// The one plain-JSON copy (null-prototype objects become ordinary ones) lives with the reference model.
export { plain } from './reference-doc.js';

/**
 * Applies a patch to an app model the way the client's store does:
 * fields merge into the component, `_exists: false` removes the key, and a
 * patch for a missing key creates it with the given fields. A client's view,
 * not the server's document: the rule is the reference model's {@link clientApplyPatch}.
 */
export function applyToModel(model: DocModel, patch: ClientPatch): void {
  clientApplyPatch(model, patch);
}

// ---------------------------------------------------------------------------
// Wire recording: the global WebSocket the adapter constructs.

/** What the current socket of one client has received. */
interface WireState {
  /** The socket the adapter created most recently. */
  socket: WebSocket;
  /** Every frame received on that socket, parsed. */
  frames: Array<Record<string, unknown>>;
  /** `timestamp` of the last ack / document patch / synced frame on that socket. */
  lastTimestamp: number | undefined;
  /** True once a `synced` frame arrived on that socket. */
  synced: boolean;
  /**
   * Frames whose clock went backwards on this socket (SPEC O2, O3: acks and
   * document broadcasts reach a session in clock order). Non-decreasing rather
   * than increasing, because an ephemeral-only write is acked with the current clock.
   */
  outOfOrder: string[];
}

const wireByClient = new Map<string, WireState>();

/** A `ws` client that records what it receives, keyed by the `clientId` of its URL. */
class RecordingWebSocket extends WebSocket {
  constructor(address: string | URL) {
    super(address);
    const clientId = new URL(String(address)).searchParams.get('clientId') ?? '';
    const state: WireState = {
      socket: this,
      frames: [],
      lastTimestamp: undefined,
      synced: false,
      outOfOrder: [],
    };
    wireByClient.set(clientId, state);
    this.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(rawToString(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      state.frames.push(frame);
      if (frame.type === 'synced') state.synced = true;
      if (
        (frame.type === 'ack' || frame.type === 'patch' || frame.type === 'synced') &&
        typeof frame.timestamp === 'number'
      ) {
        if (state.lastTimestamp !== undefined && frame.timestamp < state.lastTimestamp) {
          state.outOfOrder.push(`${JSON.stringify(frame)} after timestamp ${state.lastTimestamp}`);
        }
        state.lastTimestamp = frame.timestamp;
      }
    });
  }
}

/** The recorded state of a client's current socket, if it ever made one. */
export function wireOf(clientId: string): WireState | undefined {
  return wireByClient.get(clientId);
}

/** Controls the clock the adapter throttles by. */
export interface ClientEnvironment {
  /** Moves `performance.now()` forward past any send throttle of the adapter. */
  advanceClock(): void;
  /** Restores the global WebSocket and performance.now. */
  restore(): void;
}

/**
 * Installs what the adapter needs on Node 20: a global `WebSocket` (recording,
 * from `ws`) and a `performance.now` that is the real clock plus an offset the
 * test moves forward before every edit. It stays monotonic, so other code that
 * reads it (save throttling, timers) keeps working.
 */
export function installClientEnvironment(): ClientEnvironment {
  const globals = globalThis as { WebSocket?: unknown };
  const hadWebSocket = Object.hasOwn(globals, 'WebSocket');
  const previousWebSocket = globals.WebSocket;
  globals.WebSocket = RecordingWebSocket;
  const realNow = performance.now.bind(performance);
  let offset = 0;
  const spy = vi.spyOn(performance, 'now').mockImplementation(() => realNow() + offset);
  return {
    advanceClock: () => {
      offset += 2_000;
    },
    restore: () => {
      spy.mockRestore();
      if (hadWebSocket) globals.WebSocket = previousWebSocket;
      else delete globals.WebSocket;
      wireByClient.clear();
    },
  };
}

// ---------------------------------------------------------------------------
// Server

/** Shared between server generations so a restart finds the same data. */
type StorageFactory = (roomId: string) => Storage;

/**
 * Listens on 127.0.0.1:`port` (0 for an ephemeral port). A restart reuses the
 * previous port, which may briefly still be held: retry while it is.
 */
async function listen(port: number): Promise<WebSocketServer> {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  for (;;) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    try {
      await new Promise<void>((resolve, reject) => {
        wss.once('listening', () => resolve());
        wss.once('error', reject);
      });
      return wss;
    } catch (error) {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || Date.now() > deadline) throw error;
      await sleep(POLL_INTERVAL_MS);
    }
  }
}

/**
 * A real `ws` server wired to the library like the docs/library.md example. `stop()`
 * then `start()` again restarts it on the same port with a new RoomManager
 * over the same storage.
 */
export class TestServer {
  manager: RoomManager | undefined;
  private wss: WebSocketServer | undefined;
  private portValue = 0;
  /** Rejections of `conn.ready`, for diagnostics. */
  readonly refusals: unknown[] = [];

  constructor(
    private readonly createStorage: StorageFactory,
    /** Extra RoomManager options (limits, logger) for every generation. */
    private readonly managerOptions: Partial<RoomManagerOptions> = {},
  ) {}

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.portValue}/`;
  }

  async start(): Promise<void> {
    if (this.wss) throw new Error('server already running');
    const manager = new RoomManager({
      createStorage: this.createStorage,
      logger: silentLogger,
      idleTimeout: 60_000,
      ...this.managerOptions,
    });
    const wss = await listen(this.portValue);
    serveEveryone(wss, acceptConnection, { manager }, (error) => this.refusals.push(error));
    this.portValue = (wss.address() as AddressInfo).port;
    this.wss = wss;
    this.manager = manager;
  }

  /** The open room, if any. */
  room(roomId: string): Room | undefined {
    return this.manager?.getExistingRoom(roomId);
  }

  /** Stops accepting, closes every room (persisting it) and every socket. */
  async stop(): Promise<void> {
    const wss = this.wss;
    const manager = this.manager;
    this.wss = undefined;
    this.manager = undefined;
    if (!wss) return;
    const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
    try {
      await manager?.closeAll();
    } finally {
      for (const client of wss.clients) client.terminate();
      await closed;
    }
  }
}

// ---------------------------------------------------------------------------
// Client

/** Private state of the adapter read (never written) to tell when it is idle. */
interface AdapterInternals {
  inFlight: Map<string, unknown>;
  offlineBuffer: Record<string, unknown>;
  documentSendBuffer: unknown[];
  ephemeralSendBuffer: unknown[];
}

function internalsOf(adapter: WebsocketAdapter): AdapterInternals {
  const internals = adapter as unknown as Partial<AdapterInternals>;
  if (
    !(internals.inFlight instanceof Map) ||
    typeof internals.offlineBuffer !== 'object' ||
    !Array.isArray(internals.documentSendBuffer) ||
    !Array.isArray(internals.ephemeralSendBuffer)
  ) {
    throw new Error('WebsocketAdapter internals changed: update client-harness.ts');
  }
  return internals as AdapterInternals;
}

/** One app instance: a published adapter plus the app's own models. */
export class TestClient {
  readonly adapter: WebsocketAdapter;
  /** The app's document. */
  readonly doc: DocModel = {};
  /** Other clients' ephemeral state as the app sees it. */
  readonly remoteEphemeral: DocModel = {};
  /** Every ephemeral patch pulled, in order. */
  readonly pulledEphemeral: ClientPatch[] = [];
  /** Whether the test wants this client connected. */
  wantsOnline = false;
  syncedCalls = 0;

  constructor(
    readonly clientId: string,
    roomId: string,
    url: string,
    private readonly env: ClientEnvironment,
  ) {
    this.adapter = new WebsocketAdapter({
      url,
      clientId,
      documentId: roomId,
      usePersistence: false,
      token: 't',
      components: [],
      singletons: [],
      onSynced: () => {
        this.syncedCalls++;
      },
    });
  }

  async connect(): Promise<void> {
    this.wantsOnline = true;
    await this.adapter.init();
  }

  /** A local document edit: applied to the app's model and pushed. */
  edit(patch: ClientPatch): void {
    applyToModel(this.doc, patch);
    this.env.advanceClock();
    this.adapter.push([{ patch, origin: ORIGIN_ECS, syncBehavior: 'document' }]);
  }

  /** A local ephemeral edit (cursor, selection). */
  ephemeral(patch: ClientPatch): void {
    this.env.advanceClock();
    this.adapter.push([{ patch, origin: ORIGIN_ECS, syncBehavior: 'ephemeral' }]);
  }

  /** Pulls remote changes into the models and feeds them back to the adapter; returns how many. */
  pull(): number {
    const mutations = this.adapter.pull();
    for (const mutation of mutations) {
      if (mutation.origin !== ORIGIN_WEBSOCKET)
        throw new Error(`pulled a mutation of origin ${mutation.origin}`);
      if (mutation.syncBehavior === 'document') {
        applyToModel(this.doc, mutation.patch);
      } else if (mutation.syncBehavior === 'ephemeral') {
        this.pulledEphemeral.push(mutation.patch);
        applyToModel(this.remoteEphemeral, mutation.patch);
      }
    }
    if (mutations.length > 0) this.adapter.push(mutations);
    return mutations.length;
  }

  disconnect(): void {
    this.wantsOnline = false;
    this.adapter.disconnect();
  }

  async reconnect(): Promise<void> {
    this.wantsOnline = true;
    await this.adapter.reconnect();
  }

  close(): void {
    this.wantsOnline = false;
    this.adapter.close();
  }

  /** What the adapter's connection is doing, for failure messages: its last socket and retry timer. */
  private connectionState(): string {
    const socket = wireOf(this.clientId)?.socket;
    const adapter = this.adapter as unknown as { reconnectTimer?: unknown; intentionallyClosed?: unknown };
    const states = ['connecting', 'open', 'closing', 'closed'];
    return `last socket ${socket ? states[socket.readyState] : 'none'}, retry ${adapter.reconnectTimer ? 'scheduled' : 'none'}, intentionally closed ${String(adapter.intentionallyClosed)}`;
  }

  /** Why this client is not idle, or null when it is. */
  busyReason(roomClock: number | undefined): string | null {
    const internals = internalsOf(this.adapter);
    if (!this.wantsOnline) {
      if (this.adapter.isOnline) return 'still online';
      return null;
    }
    if (!this.adapter.isOnline) return `offline (${this.connectionState()})`;
    if (internals.inFlight.size > 0) return `${internals.inFlight.size} write(s) unacked`;
    if (Object.keys(internals.offlineBuffer).length > 0) return 'offline buffer not yet confirmed';
    if (internals.documentSendBuffer.length > 0 || internals.ephemeralSendBuffer.length > 0) {
      return 'unsent edits';
    }
    const wire = wireOf(this.clientId);
    if (!wire?.synced) return 'not synced on its current socket';
    if (wire.lastTimestamp !== roomClock) {
      return `last timestamp received ${String(wire.lastTimestamp)}, room clock ${String(roomClock)}`;
    }
    return null;
  }
}

/**
 * Waits, without pulling or pushing anything, until every client has a fresh
 * open socket that received `synced`. Pulling earlier would let the adapter
 * re-send its offline buffer in an ordinary `patch` (it flushes on every push),
 * hiding whether the server applied the patches of the `reconnect` frame (D7).
 */
export async function waitForSynced(clients: readonly TestClient[]): Promise<void> {
  const ready = (client: TestClient) => {
    const wire = wireOf(client.clientId);
    return wire?.synced === true && wire.socket.readyState === WebSocket.OPEN;
  };
  await waitFor(
    () => clients.every(ready),
    () => `synced: ${clients.map((c) => `${c.clientId}=${ready(c)}`).join(', ')}`,
  );
}

/**
 * Polls until quiescent: every client the test wants online is connected and
 * synced, has nothing unsent or unacked and has received the room's current
 * clock; every other client is offline; the room holds exactly the online
 * clients' sessions; and for several rounds in a row pulls return nothing and
 * neither the clock nor any model changes.
 */
export async function settle(
  server: TestServer,
  roomId: string,
  clients: readonly TestClient[],
  timeoutMs = POLL_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  let previous = '';
  for (;;) {
    let pulled = 0;
    for (const client of clients) pulled += client.pull();
    const room = server.room(roomId);
    const clock = room?.getTimestamp();
    const reasons: string[] = [];
    if (!room) reasons.push('room not open');
    const online = clients.filter((c) => c.wantsOnline).length;
    if (room && room.getSessionCount() !== online) {
      reasons.push(`room has ${room.getSessionCount()} sessions, expected ${online}`);
    }
    // Coalesced presence (SPEC R1, R2) still waiting for its tick is not settled yet.
    if (room && room.stats.pendingPresence > 0) reasons.push('presence waiting for its tick');
    for (const client of clients) {
      const outOfOrder = wireOf(client.clientId)?.outOfOrder ?? [];
      if (outOfOrder.length > 0) {
        throw new Error(
          `${client.clientId} received frames out of clock order (O2/O3): ${outOfOrder.join('; ')}`,
        );
      }
      const reason = client.busyReason(clock);
      if (reason) reasons.push(`${client.clientId}: ${reason}`);
    }
    if (pulled > 0) reasons.push(`pulled ${pulled} mutation(s)`);
    const fingerprint = JSON.stringify([clock, clients.map((c) => [c.doc, c.remoteEphemeral])]);
    if (fingerprint !== previous) reasons.push('models changed');
    previous = fingerprint;
    quietRounds = reasons.length === 0 ? quietRounds + 1 : 0;
    if (quietRounds >= 3) return;
    if (Date.now() > deadline) throw new Error(`clients did not settle: ${reasons.join('; ')}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/** A storage whose saves can be dropped, to model a server that lost its latest writes. */
export class RollbackStorage implements Storage {
  private saved: string | null = null;
  private dropping = false;

  async load(): Promise<RoomSnapshot | null> {
    return this.saved === null ? null : (JSON.parse(this.saved) as RoomSnapshot);
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    if (!this.dropping) this.saved = JSON.stringify(snapshot);
  }

  /** From now on saves succeed but are forgotten. */
  dropSaves(): void {
    this.dropping = true;
  }

  keepSaves(): void {
    this.dropping = false;
  }

  /** The clock of what is stored, or undefined when nothing is. */
  get storedClock(): number | undefined {
    return this.saved === null ? undefined : (JSON.parse(this.saved) as RoomSnapshot).timestamp;
  }
}

// ---------------------------------------------------------------------------
// Raw protocol client

/** A bare `ws` client speaking the wire protocol directly, recording every frame it receives. */
export class RawClient {
  readonly frames: Array<Record<string, unknown>> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: RawData) => {
      this.frames.push(JSON.parse(rawToString(data)) as Record<string, unknown>);
    });
  }

  /** Opens a socket to `url` with the connect query parameters. */
  static async connect(url: string, roomId: string, clientId: string): Promise<RawClient> {
    const target = new URL(url);
    target.searchParams.set('roomId', roomId);
    target.searchParams.set('clientId', clientId);
    target.searchParams.set('token', 't');
    const socket = new WebSocket(target);
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  ofType(type: string): Array<Record<string, unknown>> {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Waits until a received frame satisfies `predicate`. */
  async waitForFrame(predicate: (frame: Record<string, unknown>) => boolean, what: string): Promise<void> {
    await waitFor(
      () => this.frames.some(predicate),
      () => `${what}; received ${JSON.stringify(this.frames)}`,
    );
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await closed;
  }
}
