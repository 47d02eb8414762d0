import { afterEach, beforeEach } from 'vitest';
import {
  type CommitBatch,
  type HistoryRetention,
  type IncrementalStorage,
  isIncrementalStorage,
  type Logger,
  type Patch,
  Room,
  type RoomLimits,
  RoomManager,
  type RoomManagerOptions,
  type RoomSnapshot,
  type ServerMessage,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { connect, type FakeClient } from '../helpers/room-harness.js';

/**
 * One backend under test, opened per test. `storageFor(roomId)` returns a fresh
 * storage instance over the backend's data, as a restarted process would create it.
 */
export interface ContractBackend {
  storageFor(roomId: string): Storage;
  /**
   * Simulates a process restart: drops and reopens whatever the storages share
   * (a database connection, a pool). Called only while no room is open.
   */
  restart(): Promise<void>;
  /** Makes the stored data of `roomId` unreadable (garbage where the backend keeps it). */
  corrupt(roomId: string): Promise<void>;
  /** Releases everything the backend holds and removes its data. */
  cleanup(): Promise<void>;
  /**
   * For backends that keep history (SPEC H1): a storage of `roomId` with the
   * given retention and clock, over the same data as `storageFor`.
   */
  historyStorageFor?(
    roomId: string,
    options: { history: Partial<HistoryRetention>; now?: () => number },
  ): Storage;
}

export type BackendFactory = () => ContractBackend | Promise<ContractBackend>;

/** What a backend promises, known when the suite is declared. */
export interface ContractTraits {
  /**
   * True when the backend's storages are IncrementalStorages whose commits the
   * acks wait for (SPEC O4, P2); false for load/save storages saved whole.
   */
  durable: boolean;
  /** True when the backend's storages keep history (SPEC H1-H3): the history contract runs. */
  history?: boolean;
}

/** What contract tests share: the current backend and tracked rooms and managers. */
export interface ContractContext {
  readonly backend: ContractBackend;
  readonly traits: ContractTraits;
  /** Opens and loads a room over `storage` (default: a fresh `storageFor(roomId)`). */
  open(
    roomId: string,
    options?: { storage?: Storage; logger?: Logger; limits?: Partial<RoomLimits> },
  ): Promise<Room>;
  /** Restarts the backend, then opens the room over a fresh storage instance. */
  reopen(roomId: string): Promise<Room>;
  /** Closes `room`, restarts the backend and opens the room again over a fresh storage. */
  cycle(room: Room, roomId: string): Promise<Room>;
  /** A RoomManager closed after the test. */
  manager(options: RoomManagerOptions): RoomManager;
}

/** Registers per-test setup and teardown: a fresh backend, and rooms closed before its cleanup. */
export function contractContext(factory: BackendFactory, traits: ContractTraits): ContractContext {
  let current: ContractBackend | null = null;
  const rooms: Room[] = [];
  const managers: RoomManager[] = [];
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    await Promise.allSettled(managers.splice(0).map((m) => m.closeAll()));
    await Promise.allSettled(rooms.splice(0).map((r) => r.close({ flush: false })));
    const backend = current;
    current = null;
    await backend?.cleanup();
  });
  const context: ContractContext = {
    get backend(): ContractBackend {
      if (!current) throw new Error('no backend outside a test');
      return current;
    },
    traits,
    async open(roomId, options = {}) {
      const room = new Room({
        storage: options.storage ?? context.backend.storageFor(roomId),
        logger: options.logger ?? silentLogger,
        roomId,
        // The durability tests count every frame a commit holds; the client
        // counts of their joins are sent at once (uncoalesced) so they stay
        // out of the way. Coalescing (SPEC R1, R2) is tested in test/big-rooms/.
        presenceTickMs: 0,
        ...(options.limits ? { limits: options.limits } : {}),
      });
      rooms.push(room);
      await room.load();
      return room;
    },
    async reopen(roomId) {
      await context.backend.restart();
      return context.open(roomId);
    },
    async cycle(room, roomId) {
      await room.close();
      return context.reopen(roomId);
    },
    manager(options) {
      const manager = new RoomManager({ logger: silentLogger, ...options });
      managers.push(manager);
      return manager;
    },
  };
  return context;
}

/** Hooks of {@link wrapStorage}; a hook that throws or rejects fails that call. */
interface StorageHooks {
  beforeLoad?(): void | Promise<void>;
  beforeCommit?(batch: CommitBatch, call: number): void | Promise<void>;
  afterCommit?(batch: CommitBatch, call: number): void;
  beforeSave?(snapshot: RoomSnapshot, call: number): void | Promise<void>;
  afterSave?(snapshot: RoomSnapshot, call: number): void;
}

/**
 * A proxy of `inner` that runs hooks around its calls and keeps its shape: it is
 * an IncrementalStorage exactly when `inner` is one. A `beforeCommit` that throws
 * synchronously makes `commit` itself throw synchronously.
 */
export function wrapStorage(inner: Storage, hooks: StorageHooks): Storage {
  let saves = 0;
  const base: Storage = {
    load: async () => {
      await hooks.beforeLoad?.();
      return inner.load();
    },
    save: async (snapshot) => {
      const call = ++saves;
      await hooks.beforeSave?.(snapshot, call);
      await inner.save(snapshot);
      hooks.afterSave?.(snapshot, call);
    },
  };
  if (!isIncrementalStorage(inner)) return base;
  let commits = 0;
  const incremental: IncrementalStorage = {
    ...base,
    commit: (batch) => {
      const call = ++commits;
      const before = hooks.beforeCommit?.(batch, call);
      return Promise.resolve(before)
        .then(() => inner.commit(batch))
        .then(() => hooks.afterCommit?.(batch, call));
    },
  };
  const { wantsSnapshot, closingAfterFlush, close } = inner;
  if (wantsSnapshot) incremental.wantsSnapshot = (reason) => wantsSnapshot.call(inner, reason);
  if (closingAfterFlush) incremental.closingAfterFlush = () => closingAfterFlush.call(inner);
  if (close) incremental.close = () => close.call(inner);
  return incremental;
}

/**
 * A hook failing its first `times` calls with `error` (the first one by a
 * synchronous throw, later ones by a rejected promise), running `onFailure` each time.
 */
export function failFirst(
  times: number,
  error: Error,
  onFailure: () => void = () => {},
): (_: unknown, call: number) => Promise<void> {
  return (_, call) => {
    if (call > times) return Promise.resolve();
    onFailure();
    if (call === 1) throw error;
    return Promise.reject(error);
  };
}

/** Polls `condition` on every macrotask turn until it holds; throws naming `what` if it never does. */
export async function waitFor(condition: () => boolean, what: string, giveUpAfterMs = 25_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > giveUpAfterMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Collects unhandled promise rejections until `stop()` is called, which returns them. */
export function trackUnhandledRejections(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  return {
    stop() {
      process.off('unhandledRejection', listener);
      return seen;
    },
  };
}

/** Lets pending promise callbacks and I/O callbacks run `turns` times. */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A logger recording every entry. */
interface CapturingLogger extends Logger {
  readonly entries: Array<{ level: string; context: Record<string, unknown>; message: string }>;
  errors(): Array<{ context: Record<string, unknown>; message: string }>;
}

export function capturingLogger(): CapturingLogger {
  const entries: CapturingLogger['entries'] = [];
  const log = (level: string) => (context: object, message: string) => {
    entries.push({ level, context: context as Record<string, unknown>, message });
  };
  return {
    entries,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    errors: () => entries.filter((e) => e.level === 'error'),
  };
}

/** A fake socket that also records each frame it receives in a shared event log. */
class LoggedSocket extends FakeSocket {
  constructor(
    private readonly name: string,
    private readonly log: string[],
    private readonly onFrame?: (message: ServerMessage) => void,
  ) {
    super();
  }

  override send(data: string): void {
    super.send(data);
    const message = JSON.parse(data) as ServerMessage;
    const detail = message.type === 'ack' ? `:${message.messageId}` : '';
    this.log.push(`${this.name}:${message.type}${detail}`);
    this.onFrame?.(message);
  }
}

/** A fake client whose frames are logged as `<clientId>:<type>[:<messageId>]`. */
export function connectLogged(
  room: Room,
  clientId: string,
  log: string[],
  onFrame?: (message: ServerMessage) => void,
): FakeClient {
  return connect(room, { clientId, socket: new LoggedSocket(clientId, log, onFrame) });
}

let messageCounter = 0;

/** Sends one `patch` frame of document patches and returns its messageId. */
export function write(client: FakeClient, ...documentPatches: Patch[]): string {
  const messageId = `m${++messageCounter}`;
  client.send({ type: 'patch', messageId, documentPatches });
  return messageId;
}

/** Ack frames a client received, in order. */
export function acks(client: FakeClient): Array<{ messageId: string; timestamp: number }> {
  return client.socket.ofType('ack').map(({ messageId, timestamp }) => ({ messageId, timestamp }));
}

/**
 * What a client that last saw `lastTimestamp` is sent by its reconnect reply (SPEC D7):
 * the merged document patch, or `null` when the reply holds none.
 */
export async function reconnectReply(room: Room, lastTimestamp: number): Promise<Patch | null> {
  const socket = new FakeSocket();
  const sessionId = room.handleSocketConnect({ socket, clientId: 'returning', permissions: 'readwrite' });
  room.handleSocketMessage(
    sessionId,
    JSON.stringify({ type: 'reconnect', lastTimestamp, protocolVersion: 2 }),
  );
  await waitFor(() => socket.ofType('synced').length > 0, 'the synced frame');
  room.handleSocketClose(sessionId);
  const replies = socket.ofType('patch').filter((p) => p.documentPatches);
  if (replies.length === 0) return null;
  if (replies.length > 1) throw new Error('more than one reconnect reply');
  return Object.assign({}, ...(replies[0]?.documentPatches ?? [])) as Patch;
}
