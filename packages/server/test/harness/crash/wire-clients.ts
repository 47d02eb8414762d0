/**
 * Raw `ws` clients speaking wire protocol 2 for the crash tests:
 * {@link Writer} streams acked writes and deletions into a room and records
 * every ack in an {@link AckedModel}; {@link readRoom} fetches a room's
 * reconnect reply (SPEC D7).
 */
import { type RawData, WebSocket } from 'ws';

type Frame = Record<string, unknown>;
type Fields = Record<string, unknown>;

/** What an acked operation left under a key: a live component or a tombstone. */
export type Expected =
  | { kind: 'live'; v: number; timestamp: number }
  | { kind: 'deleted'; timestamp: number };

/**
 * Every acked write and deletion, by room and key: what a restarted server must
 * hold. Not a document model (that is the one {@link ReferenceDoc}): each key
 * has one writer, whose last acked operation decides it, and an operation in
 * flight at a kill leaves its key undecided ({@link forget}); no merge rule is involved.
 */
export class AckedModel {
  readonly rooms = new Map<string, Map<string, Expected>>();
  acks = 0;
  /** Operations still unacked when their socket closed (in flight at a kill). */
  abandoned = 0;

  room(roomId: string): Map<string, Expected> {
    let keys = this.rooms.get(roomId);
    if (!keys) {
      keys = new Map();
      this.rooms.set(roomId, keys);
    }
    return keys;
  }

  record(roomId: string, key: string, expected: Expected): void {
    this.room(roomId).set(key, expected);
    this.acks++;
  }

  /** A deletion that was in flight at the kill: the key may hold either state now. */
  forget(roomId: string, key: string): void {
    this.room(roomId).delete(key);
  }
}

type Op = { kind: 'write'; key: string; n: number } | { kind: 'delete'; key: string };

function parseFrame(data: RawData): Frame {
  const parsed: unknown = JSON.parse(String(data));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`server sent a non-object frame: ${String(data)}`);
  }
  return parsed as Frame;
}

/** Opens a socket to the room; resolves once it is open. */
function openSocket(port: number, roomId: string, clientId: string): Promise<WebSocket> {
  const query = new URLSearchParams({ roomId, clientId, token: 'crash-test' });
  const socket = new WebSocket(`ws://127.0.0.1:${port}/?${query}`);
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A room's state as a reconnect reply (SPEC D7) describes it. */
export interface RoomView {
  /** Key to fields, from the reply's `documentPatches`. */
  state: Map<string, Fields>;
  /** The `synced` frame's clock. */
  timestamp: number;
}

/** Connects, sends `reconnect` with `lastTimestamp` and collects the reply up to `synced`. */
export async function readRoom(port: number, roomId: string, lastTimestamp: number): Promise<RoomView> {
  const socket = await openSocket(port, roomId, `reader-${roomId}-${lastTimestamp}`);
  const state = new Map<string, Fields>();
  try {
    return await new Promise<RoomView>((resolve, reject) => {
      socket.on('message', (data) => {
        try {
          const frame = parseFrame(data);
          if (frame.type === 'error') throw new Error(`reader got an error frame: ${JSON.stringify(frame)}`);
          if (frame.type === 'patch' && frame.clientId === '' && Array.isArray(frame.documentPatches)) {
            for (const patch of frame.documentPatches as Array<Record<string, Fields>>) {
              for (const [key, fields] of Object.entries(patch)) state.set(key, fields);
            }
          }
          if (frame.type === 'synced') resolve({ state, timestamp: frame.timestamp as number });
        } catch (error) {
          reject(error);
        }
      });
      socket.on('close', (code, reason) =>
        reject(new Error(`reader socket closed before synced: ${code} ${String(reason)}`)),
      );
      socket.on('error', reject);
      socket.send(JSON.stringify({ type: 'reconnect', lastTimestamp, protocolVersion: 2 }));
    });
  } finally {
    socket.terminate();
  }
}

/**
 * One writer client. Keeps `window` patches in flight, sending the next as each
 * ack arrives. Every `deleteEvery`-th operation deletes the oldest of its keys
 * whose write was acked (possibly in an earlier round); the others write a new
 * key `<clientId>/<n>` with `{ _exists: true, v: n }`. Its counters live across
 * rounds, so keys are never reused.
 */
export class Writer {
  private socket: WebSocket | null = null;
  private readonly inFlight = new Map<string, Op>();
  private readonly deletable: string[] = [];
  private nextN = 0;
  private sent = 0;
  private stopped = false;

  constructor(
    readonly clientId: string,
    readonly roomId: string,
    private readonly model: AckedModel,
    private readonly onAck: () => void,
    private readonly window = 8,
    private readonly deleteEvery = 4,
  ) {}

  /**
   * Connects to the server on `port` and waits for `synced`; {@link go} starts
   * writing. Its `closed` resolves when the socket closes after {@link stop},
   * and rejects if it closes earlier or the server answers with an error.
   */
  async connect(port: number): Promise<{ closed: Promise<void> }> {
    const socket = await openSocket(port, this.roomId, this.clientId);
    this.socket = socket;
    this.stopped = false;
    this.inFlight.clear();
    let markSynced = () => {};
    const synced = new Promise<void>((resolve) => {
      markSynced = resolve;
    });
    const done = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        try {
          const frame = parseFrame(data);
          if (frame.type === 'error') throw new Error(`${this.clientId} got ${JSON.stringify(frame)}`);
          if (frame.type === 'synced') markSynced();
          else if (frame.type === 'ack') this.acked(frame);
        } catch (error) {
          reject(error);
          socket.terminate();
        }
      });
      socket.on('error', () => {
        // The close event follows and decides.
      });
      socket.on('close', (code, reason) => {
        this.abandonInFlight();
        if (this.stopped) resolve();
        else reject(new Error(`${this.clientId}: socket closed unexpectedly (${code} ${String(reason)})`));
      });
    });
    // Rejections are observed by whoever awaits `done`; avoid an unhandled one meanwhile.
    done.catch(() => {});
    socket.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
    const closedFirst = done.then(() => {
      throw new Error(`${this.clientId}: closed before synced`);
    });
    closedFirst.catch(() => {});
    await Promise.race([synced, closedFirst]);
    return { closed: done };
  }

  /** Starts writing (after {@link connect}). */
  go(): void {
    this.pump();
  }

  /** Stops sending; acks still arriving are recorded until the socket closes. */
  stop(): void {
    this.stopped = true;
  }

  /** Closes the socket (cleanup). */
  terminate(): void {
    this.stopped = true;
    this.socket?.terminate();
  }

  private acked(frame: Frame): void {
    const messageId = frame.messageId;
    const timestamp = frame.timestamp;
    if (typeof messageId !== 'string' || typeof timestamp !== 'number') {
      throw new Error(`${this.clientId}: malformed ack ${JSON.stringify(frame)}`);
    }
    const op = this.inFlight.get(messageId);
    if (!op) throw new Error(`${this.clientId}: ack for unknown message ${messageId}`);
    this.inFlight.delete(messageId);
    if (op.kind === 'write') {
      this.model.record(this.roomId, op.key, { kind: 'live', v: op.n, timestamp });
      this.deletable.push(op.key);
    } else {
      this.model.record(this.roomId, op.key, { kind: 'deleted', timestamp });
    }
    this.onAck();
    this.pump();
  }

  private pump(): void {
    const socket = this.socket;
    while (socket && !this.stopped && this.inFlight.size < this.window) {
      this.sent++;
      const target = this.sent % this.deleteEvery === 0 ? this.deletable.shift() : undefined;
      let messageId: string;
      let patch: Record<string, Fields>;
      if (target !== undefined) {
        messageId = `${this.clientId}-del-${target}`;
        this.inFlight.set(messageId, { kind: 'delete', key: target });
        patch = { [target]: { _exists: false } };
      } else {
        const n = this.nextN++;
        const key = `${this.clientId}/${n}`;
        messageId = `${this.clientId}-${n}`;
        this.inFlight.set(messageId, { kind: 'write', key, n });
        patch = { [key]: { _exists: true, v: n } };
      }
      socket.send(JSON.stringify({ type: 'patch', messageId, documentPatches: [patch] }));
    }
  }

  /** After the kill: unacked writes are unknown (not in the model); unacked deletions make their key uncertain. */
  private abandonInFlight(): void {
    for (const op of this.inFlight.values()) {
      this.model.abandoned++;
      if (op.kind === 'delete') this.model.forget(this.roomId, op.key);
    }
    this.inFlight.clear();
  }
}
