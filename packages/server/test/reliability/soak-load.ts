/**
 * Load generator and oracle of the soak test (soak.test.ts): a paced mixed
 * load of raw wire-protocol-2 clients against the real server command, and an
 * acked-writes model that checks every reconnect reply of the run against
 * what the acked writes imply.
 *
 * - {@link Writer}s write at a fixed rate (held load, not max throughput):
 *   shape creates, partial updates, deletes and re-creates, strokes that grow
 *   by buffer deltas and are truncated or deleted when long, multi-key frames,
 *   and ephemeral cursor updates of their own.
 * - {@link Reader}s only listen, keeping a mirror of the document and of the
 *   ephemeral state built from their reconnect reply and the broadcasts.
 * - Visitors ({@link visit}) churn: a new socket every fraction of a second, some in
 *   transient rooms that idle-close and reopen, some returning under an old
 *   clientId with a `lastTimestamp` and offline edits in the `reconnect`
 *   frame, moving a cursor, writing shared notes, then leaving with a clean
 *   close or a terminated socket.
 *
 * The clients keep no frame log (unlike the harness's `WireClient`), so a
 * 10-minute run does not grow the test process; each socket checks its
 * stream as frames arrive (SPEC O2, O3, A3, D1: after `synced`, the document
 * timestamps it sees, acks of its writes and broadcasts of the others', are
 * exactly the next clock values, one by one).
 *
 * {@link RoomModel} replays acked writes in clock order (every clock value
 * must belong to exactly one acked write) and checks each reconnect reply at
 * its `synced` clock S: the client's prior state (nothing, or the model at its
 * `lastTimestamp`) with the reply applied must equal the model at S (SPEC D7).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { type RawData, WebSocket } from 'ws';
import { seededRandom } from '../helpers/seeded-random.js';
import { CLI } from '../server/process/server-process.js';

type Frame = Record<string, unknown>;
type Component = Record<string, unknown>;
/** A patch: key to partial component. */
export type Patch = Record<string, Component>;
/** A document state: key to component (a tombstone is `{ _exists: false }`). */
export type DocState = Map<string, Component>;

// ---------------------------------------------------------------- randomness

/** A seed of its own for each actor, so choices do not depend on how actors interleave. */
function childSeed(seed: number, label: string): number {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

function int(rng: () => number, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

// ------------------------------------------------------- document semantics

interface BufferDelta {
  __buf: 1;
  len: number;
  runs: Array<[number, number[]]>;
}

function isBufferDelta(value: unknown): value is BufferDelta {
  return typeof value === 'object' && value !== null && (value as { __buf?: unknown }).__buf === 1;
}

/** SPEC D6, written from the spec: keep min(len, length), pad with 0, write the runs inside [0, len). */
function applyDelta(base: unknown, delta: BufferDelta): number[] {
  const previous = Array.isArray(base) ? (base as number[]) : [];
  const out: number[] = [];
  for (let i = 0; i < delta.len; i++) out.push(i < previous.length ? (previous[i] as number) : 0);
  for (const [offset, values] of delta.runs) {
    values.forEach((value, i) => {
      if (offset + i >= 0 && offset + i < delta.len) out[offset + i] = value;
    });
  }
  return out;
}

/**
 * Applies patches in order with the document rules (SPEC D2-D6): a deletion
 * leaves a tombstone, a write to a live key merges fields, only a write with
 * `_exists: true` starts a fresh component at an absent or deleted key (D5,
 * anything else there changes nothing). Field values are never
 * mutated (a buffer delta makes a new array), so states may share them.
 */
export function applyPatches(state: DocState, patches: readonly Patch[]): void {
  for (const patch of patches) {
    for (const [key, data] of Object.entries(patch)) {
      if (data._exists === false) {
        state.set(key, { _exists: false });
        continue;
      }
      const previous = state.get(key);
      const live = previous !== undefined && previous._exists !== false;
      if (!live && data._exists !== true) continue;
      const next: Component = live ? { ...previous } : {};
      for (const [field, value] of Object.entries(data)) {
        next[field] = isBufferDelta(value) ? applyDelta(next[field], value) : value;
      }
      state.set(key, next);
    }
  }
}

/** Ephemeral merge (SPEC E1, E3): like {@link applyPatches}, but a deletion forgets the key. */
function applyEphemeral(state: DocState, patches: readonly Patch[]): void {
  for (const patch of patches) {
    for (const [key, data] of Object.entries(patch)) {
      const previous = state.get(key);
      if (data._exists === false) state.delete(key);
      else if (previous || data._exists === true) state.set(key, { ...(previous ?? {}), ...data });
    }
  }
}

/** A copy that can be changed without touching `state` (components copied, values shared). */
export function cloneState(state: DocState): DocState {
  const copy: DocState = new Map();
  for (const [key, component] of state) copy.set(key, { ...component });
  return copy;
}

/** Keys whose components differ, described for a failure message (at most `limit`). */
export function diffStates(expected: DocState, actual: DocState, limit = 5): string[] {
  const out: string[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(key);
    const got = actual.get(key);
    if (isDeepStrictEqual(want, got)) continue;
    out.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  const total = out.length;
  return total > limit ? [...out.slice(0, limit), `... ${total - limit} more`] : out;
}

function patchesOf(frame: Frame, field: 'documentPatches' | 'ephemeralPatches'): Patch[] {
  const value = frame[field];
  return Array.isArray(value) ? (value as Patch[]) : [];
}

// ------------------------------------------------------------------ failures

/** Everything that went wrong during the run (asserted empty by the test). */
export class Failures {
  readonly list: string[] = [];
  count = 0;

  add(message: string): void {
    this.count++;
    // Keep the first ones for the report; a broken run can produce thousands.
    if (this.list.length < 50) this.list.push(message);
  }
}

// --------------------------------------------------------------- the oracle

/** The state at a clock, known when the replay reached it. */
export interface KnownState {
  at: number;
  state: DocState;
}

interface Fence {
  floor: number;
}

interface SyncCheck {
  what: string;
  prior: KnownState | null;
  reply: Patch[];
  onChecked?: (state: KnownState, ok: boolean) => void;
}

/**
 * One room's acked writes, replayed in clock order. Every acked document
 * write is registered with its ack's timestamp (SPEC D1: each write frame
 * takes the next clock value, so timestamps are unique and leave no gap).
 * A reconnect reply is checked when the replay reaches its `synced` clock.
 *
 * Replies and acks arrive on different sockets in any order, so the replay
 * must not run past a reply's clock before the reply arrived: a reconnect
 * about to be sent opens a {@link Fence} at the highest timestamp acked so
 * far, which its clock cannot be below (that write was handled before the
 * reconnect was sent), and the replay stops there until the reply arrives.
 */
export class RoomModel {
  /** The state after the writes stamped 1..{@link replayed}. */
  readonly state: DocState = new Map();
  replayed = 0;
  maxAcked = 0;
  writesAcked = 0;
  checksPassed = 0;
  private readonly pending = new Map<number, Patch[]>();
  private readonly fences = new Set<Fence>();
  private readonly checks = new Map<number, SyncCheck[]>();

  constructor(
    readonly roomId: string,
    private readonly failures: Failures,
  ) {}

  /** An acked document write (or the writes of a reconnect frame, at its `synced` clock). */
  acked(timestamp: number, patches: Patch[], what: string): void {
    if (!Number.isSafeInteger(timestamp) || timestamp <= this.replayed || this.pending.has(timestamp)) {
      this.failures.add(`[D1] ${this.roomId}: ${what} acked with timestamp ${timestamp}, already taken`);
      return;
    }
    this.pending.set(timestamp, patches);
    this.writesAcked++;
    if (timestamp > this.maxAcked) this.maxAcked = timestamp;
    this.advance();
  }

  openFence(): Fence {
    const fence = { floor: this.maxAcked };
    this.fences.add(fence);
    return fence;
  }

  closeFence(fence: Fence): void {
    if (this.fences.delete(fence)) this.advance();
  }

  /**
   * Checks a reconnect reply once the replay reaches `synced`: `prior` (the
   * client's state at its `lastTimestamp`; null for 0) with the reply's
   * document patches applied must equal the model there (SPEC D7).
   */
  expectReply(fence: Fence, synced: number, check: SyncCheck): void {
    if (synced < this.replayed) {
      this.failures.add(
        `[D7] ${this.roomId}: ${check.what} synced at ${synced}, below writes acked before it asked (${this.replayed})`,
      );
    } else {
      const list = this.checks.get(synced) ?? [];
      list.push(check);
      this.checks.set(synced, list);
    }
    this.closeFence(fence);
  }

  /** Replays acked writes in clock order up to the lowest open fence, running checks on the way. */
  private advance(): void {
    for (;;) {
      this.runChecks();
      let limit = Number.POSITIVE_INFINITY;
      for (const fence of this.fences) limit = Math.min(limit, fence.floor);
      if (this.replayed >= limit) return;
      const next = this.pending.get(this.replayed + 1);
      if (!next) return;
      this.pending.delete(this.replayed + 1);
      applyPatches(this.state, next);
      this.replayed++;
    }
  }

  private runChecks(): void {
    const due = this.checks.get(this.replayed);
    if (!due) return;
    this.checks.delete(this.replayed);
    for (const check of due) {
      const seen = check.prior ? cloneState(check.prior.state) : new Map<string, Component>();
      applyPatches(seen, check.reply);
      const diff = diffStates(this.state, seen);
      const ok = diff.length === 0;
      if (ok) this.checksPassed++;
      else {
        this.failures.add(
          `[D7] ${this.roomId}: ${check.what} (lastTimestamp ${check.prior?.at ?? 0}, synced ${this.replayed}) ` +
            `does not match the acked writes:\n  ${diff.join('\n  ')}`,
        );
      }
      check.onChecked?.({ at: this.replayed, state: cloneState(this.state) }, ok);
    }
  }

  /** Acked writes not replayed yet (a gap in the clock values) and replies not checked yet. */
  outstanding(): { pendingWrites: number; pendingChecks: number } {
    let pendingChecks = 0;
    for (const list of this.checks.values()) pendingChecks += list.length;
    return { pendingWrites: this.pending.size, pendingChecks };
  }
}

// ------------------------------------------------------------------- sockets

interface Pending {
  sentAt: number;
  doc: Patch[] | null;
}

interface SocketHooks {
  /** The reconnect reply: `clientId: ''` patches received before `synced`. */
  onSynced?(synced: number, reply: Frame[]): void;
  onBroadcast?(frame: Frame): void;
  onAck?(pending: Pending): void;
}

/**
 * A raw wire-protocol-2 socket that checks its stream as frames arrive and
 * keeps only what is in flight. Anything unexpected (an `error`, `resync` or
 * `version-mismatch` frame, an ack for no write, a close it did not ask for,
 * a document timestamp out of order) is a failure.
 */
class LoadSocket {
  readonly inFlight = new Map<string, Pending>();
  synced: number | undefined;
  /** The last document clock this session saw (ack of its write, broadcast, or `synced`). */
  lastDocTs = 0;
  closed = false;
  private closing = false;
  private nextId = 0;
  private readonly reply: Frame[] = [];
  private hooks: SocketHooks = {};

  private constructor(
    readonly load: SoakLoad,
    readonly ws: WebSocket,
    readonly roomId: string,
    readonly clientId: string,
  ) {}

  /** Opens a socket; resolves once open (rejects on a refused or failed connection). */
  static open(load: SoakLoad, roomId: string, clientId: string): Promise<LoadSocket> {
    const query = new URLSearchParams({ roomId, clientId, token: 'soak' });
    const ws = new WebSocket(`ws://127.0.0.1:${load.port}/?${query}`);
    const socket = new LoadSocket(load, ws, roomId, clientId);
    load.sockets.add(socket);
    load.socketsOpened++;
    load.peakSockets = Math.max(load.peakSockets, load.sockets.size);
    ws.on('message', (data: RawData) => socket.receive(data));
    ws.on('close', (code, reason) => socket.onClose(code, String(reason)));
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => {}); // the close event follows and decides
        resolve(socket);
      });
      ws.once('error', reject);
    });
  }

  get what(): string {
    return `${this.clientId}@${this.roomId}`;
  }

  use(hooks: SocketHooks): void {
    this.hooks = hooks;
  }

  /** Sends the `reconnect` frame (optionally with offline edits, as the published client does). */
  sendReconnect(lastTimestamp: number, documentPatches?: Patch[], ephemeralPatches?: Patch[]): void {
    const frame: Frame = { type: 'reconnect', lastTimestamp, protocolVersion: 2 };
    if (documentPatches) frame.documentPatches = documentPatches;
    if (ephemeralPatches) frame.ephemeralPatches = ephemeralPatches;
    this.send(frame);
  }

  /** Sends a write; its ack is checked and reported to {@link SocketHooks.onAck}. */
  sendPatch(documentPatches: Patch[] | null, ephemeralPatches?: Patch[]): void {
    const messageId = `${this.clientId}-${this.nextId++}`;
    const frame: Frame = { type: 'patch', messageId };
    if (documentPatches) frame.documentPatches = documentPatches;
    if (ephemeralPatches) frame.ephemeralPatches = ephemeralPatches;
    this.inFlight.set(messageId, { sentAt: performance.now(), doc: documentPatches });
    this.send(frame);
  }

  private send(frame: Frame): void {
    if (this.closed || this.closing) return;
    const text = JSON.stringify(frame);
    this.load.framesSent++;
    this.ws.send(text);
  }

  /** Closes with 1000 (clean) or terminates the TCP connection (abrupt). */
  leave(clean: boolean): void {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight.size > 0)
      this.load.failures.add(`${this.what} left with ${this.inFlight.size} unacked`);
    if (clean) this.ws.close(1000, 'bye');
    else this.ws.terminate();
  }

  private receive(data: RawData): void {
    this.load.framesReceived++;
    let frame: Frame;
    try {
      frame = JSON.parse(String(data)) as Frame;
    } catch {
      this.load.failures.add(`${this.what} received a frame that is not JSON: ${String(data).slice(0, 200)}`);
      return;
    }
    const failures = this.load.failures;
    switch (frame.type) {
      case 'ack':
        this.onAckFrame(frame);
        return;
      case 'patch': {
        const timestamp = frame.timestamp;
        if (frame.clientId === '') {
          if (this.synced !== undefined) failures.add(`${this.what} got a server patch after synced`);
          else this.reply.push(frame);
          return;
        }
        if (typeof timestamp === 'number') {
          // O3 and A3: before `synced`, increasing; after, exactly the next clock value.
          const ok =
            this.synced === undefined ? timestamp > this.lastDocTs : timestamp === this.lastDocTs + 1;
          if (!ok) failures.add(`[O3] ${this.what} got broadcast ${timestamp} after ${this.lastDocTs}`);
          this.lastDocTs = timestamp;
        }
        this.hooks.onBroadcast?.(frame);
        return;
      }
      case 'synced': {
        const timestamp = frame.timestamp as number;
        if (this.synced !== undefined) failures.add(`${this.what} got a second synced`);
        if (!(timestamp >= this.lastDocTs)) {
          failures.add(`[O3] ${this.what} synced at ${timestamp} after broadcast ${this.lastDocTs}`);
        }
        for (const reply of this.reply) {
          if (reply.documentPatches !== undefined && reply.timestamp !== timestamp) {
            failures.add(
              `[D7] ${this.what} reply timestamp ${String(reply.timestamp)} != synced ${timestamp}`,
            );
          }
        }
        this.synced = timestamp;
        this.lastDocTs = timestamp;
        this.hooks.onSynced?.(timestamp, this.reply.splice(0));
        return;
      }
      case 'clientCount':
        return;
      default:
        failures.add(`${this.what} got an unexpected frame: ${JSON.stringify(frame).slice(0, 300)}`);
    }
  }

  private onAckFrame(frame: Frame): void {
    const { messageId, timestamp } = frame;
    const pending = typeof messageId === 'string' ? this.inFlight.get(messageId) : undefined;
    if (!pending || typeof timestamp !== 'number') {
      this.load.failures.add(`${this.what} got an ack for no write in flight: ${JSON.stringify(frame)}`);
      return;
    }
    this.inFlight.delete(messageId as string);
    if (pending.doc) {
      // O2: the ack of a write comes before any broadcast of a later write,
      // so it is exactly the next clock value this session sees.
      if (timestamp !== this.lastDocTs + 1) {
        this.load.failures.add(`[O2] ${this.what} ack ${timestamp} after ${this.lastDocTs}`);
      }
      this.lastDocTs = timestamp;
      this.load.model(this.roomId).acked(timestamp, pending.doc, this.what);
    }
    this.hooks.onAck?.(pending);
  }

  private onClose(code: number, reason: string): void {
    this.closed = true;
    this.load.sockets.delete(this);
    if (!this.closing) {
      this.load.failures.add(`${this.what} was closed by the server: ${code} ${reason}`);
    }
    if (this.inFlight.size > 0) {
      this.load.failures.add(`${this.what} closed with ${this.inFlight.size} writes unacked`);
    }
  }
}

/**
 * Sends `reconnect` and resolves with the socket's `synced` clock once the
 * reply was registered with the oracle for checking.
 */
function syncAndCheck(
  socket: LoadSocket,
  options: {
    prior: KnownState | null;
    offline?: Patch[];
    ephemeral?: Patch[];
    onReply?: (reply: Frame[]) => void;
    onChecked?: (state: KnownState, ok: boolean) => void;
  },
): Promise<number> {
  const model = socket.load.model(socket.roomId);
  const fence = model.openFence();
  return new Promise((resolve, reject) => {
    const onClose = () => {
      model.closeFence(fence);
      reject(new Error(`${socket.what} closed before synced`));
    };
    socket.ws.once('close', onClose);
    socket.use({
      onSynced: (synced, reply) => {
        socket.ws.off('close', onClose);
        // The reconnect frame's own writes take the clock of the reply (applied just before it, SPEC D7).
        if (options.offline) model.acked(synced, options.offline, `${socket.what} reconnect`);
        options.onReply?.(reply);
        model.expectReply(fence, synced, {
          what: `reply to ${socket.what}`,
          prior: options.prior,
          reply: reply.flatMap((frame) => patchesOf(frame, 'documentPatches')),
          onChecked: options.onChecked,
        });
        resolve(synced);
      },
    });
    socket.sendReconnect(options.prior?.at ?? 0, options.offline, options.ephemeral);
  });
}

// ------------------------------------------------------------------- actors

const COLORS = ['#e03131', '#2f9e44', '#1971c2', '#f08c00', '#6741d9'] as const;
const SHAPE_SLOTS = 16;
const STROKE_SLOTS = 2;
/** Strokes are cut back (truncated or deleted) past this many points, so the document stays bounded. */
const STROKE_CAP = 128;
const NOTE_SLOTS = 8;

/**
 * A client that writes its own shapes and strokes at a fixed pace and moves
 * its cursor. It alone writes its keys, so it knows which are live and how
 * long each stroke is, and builds correct partial updates and deltas.
 */
export class Writer {
  readonly cursorKey: string;
  lastCursor: Component | undefined;
  cursorAcked = false;
  private readonly rng: () => number;
  private readonly shapes = new Array<boolean>(SHAPE_SLOTS).fill(false);
  private readonly strokes = Array.from({ length: STROKE_SLOTS }, () => ({ live: false, len: 0 }));

  constructor(
    readonly socket: LoadSocket,
    seed: number,
  ) {
    this.rng = seededRandom(childSeed(seed, socket.clientId));
    this.cursorKey = `${socket.clientId}/Cursor`;
  }

  static async start(load: SoakLoad, roomId: string, clientId: string): Promise<Writer> {
    const socket = await LoadSocket.open(load, roomId, clientId);
    await syncAndCheck(socket, { prior: null });
    const writer = new Writer(socket, load.seed);
    socket.use({
      onAck: (pending) => {
        if (pending.doc) load.recordLatency(pending.sentAt, performance.now() - pending.sentAt);
        else writer.cursorAcked = true;
      },
    });
    return writer;
  }

  /** One document write, chosen by the writer's own PRNG. */
  writeDocument(): void {
    const r = this.rng();
    if (r < 0.45) this.socket.sendPatch([this.shapeWrite()]);
    else if (r < 0.55) this.socket.sendPatch([this.shapeDelete() ?? this.shapeWrite()]);
    else if (r < 0.9) this.socket.sendPatch([this.strokeWrite()]);
    else {
      // Two keys in two patches plus the cursor in one frame (SPEC D2, A3).
      this.socket.sendPatch([this.shapeWrite(), this.strokeWrite()], [this.cursorMove()]);
      this.socket.load.ephemeralUpdates++;
    }
  }

  /** An ephemeral-only frame: the cursor moves. */
  moveCursor(): void {
    this.socket.sendPatch(null, [this.cursorMove()]);
    this.socket.load.ephemeralUpdates++;
  }

  private cursorMove(): Patch {
    // `_exists: true` on every move: the first one creates the cursor (D5), later ones merge.
    this.lastCursor = { _exists: true, x: int(this.rng, 0, 1999), y: int(this.rng, 0, 1199) };
    return { [this.cursorKey]: this.lastCursor };
  }

  private shapeKey(slot: number): string {
    return `${this.socket.clientId}-s${slot}/Shape`;
  }

  private shapeWrite(): Patch {
    const slot = int(this.rng, 0, SHAPE_SLOTS - 1);
    const key = this.shapeKey(slot);
    if (this.shapes[slot]) {
      // D3: a partial update of a live shape.
      const fields: Component = { x: int(this.rng, 0, 1999), y: int(this.rng, 0, 1199) };
      if (this.rng() < 0.2) fields.tags = [pick(this.rng, COLORS), int(this.rng, 0, 9)];
      return { [key]: fields };
    }
    // D5: a fresh shape (first write, or a re-create after a delete).
    this.shapes[slot] = true;
    return {
      [key]: {
        _exists: true,
        x: int(this.rng, 0, 1999),
        y: int(this.rng, 0, 1199),
        w: int(this.rng, 10, 400),
        h: int(this.rng, 10, 400),
        color: pick(this.rng, COLORS),
      },
    };
  }

  private shapeDelete(): Patch | undefined {
    const live = this.shapes.flatMap((isLive, slot) => (isLive ? [slot] : []));
    if (live.length === 0) return undefined;
    const slot = pick(this.rng, live);
    this.shapes[slot] = false;
    return { [this.shapeKey(slot)]: { _exists: false } };
  }

  /** Appends points to a stroke with a buffer delta (SPEC D6); cuts it back when it is long. */
  private strokeWrite(): Patch {
    const slot = int(this.rng, 0, STROKE_SLOTS - 1);
    const stroke = this.strokes[slot] as { live: boolean; len: number };
    const key = `${this.socket.clientId}-k${slot}/Stroke`;
    const points = Array.from({ length: int(this.rng, 4, 12) }, () => int(this.rng, 0, 999));
    if (stroke.live && stroke.len >= STROKE_CAP) {
      if (this.rng() < 0.5) {
        stroke.live = false;
        stroke.len = 0;
        return { [key]: { _exists: false } };
      }
      // Truncate to a new start: keep nothing beyond `len`, overwrite from 0.
      stroke.len = points.length;
      return { [key]: { points: { __buf: 1, len: points.length, runs: [[0, points]] } } };
    }
    const fields: Component = {};
    if (!stroke.live) {
      fields._exists = true;
      fields.color = pick(this.rng, COLORS);
      stroke.live = true;
      stroke.len = 0;
    }
    fields.points = { __buf: 1, len: stroke.len + points.length, runs: [[stroke.len, points]] };
    stroke.len += points.length;
    return { [key]: fields };
  }
}

/**
 * A client that only listens: its mirror of the document and of the others'
 * ephemeral state, built from its reply and every broadcast, must end equal
 * to the acked writes and the writers' last cursors (SPEC A3, D6, E1, E3).
 */
export class Reader {
  readonly document: DocState = new Map();
  readonly ephemeral: DocState = new Map();
  broadcasts = 0;

  private constructor(readonly socket: LoadSocket) {}

  static async start(load: SoakLoad, roomId: string, clientId: string): Promise<Reader> {
    const socket = await LoadSocket.open(load, roomId, clientId);
    const reader = new Reader(socket);
    await syncAndCheck(socket, {
      prior: null,
      onReply: (reply) => {
        for (const frame of reply) {
          applyPatches(reader.document, patchesOf(frame, 'documentPatches'));
          applyEphemeral(reader.ephemeral, patchesOf(frame, 'ephemeralPatches'));
        }
      },
    });
    socket.use({
      onBroadcast: (frame) => {
        reader.broadcasts++;
        applyPatches(reader.document, patchesOf(frame, 'documentPatches'));
        applyEphemeral(reader.ephemeral, patchesOf(frame, 'ephemeralPatches'));
      },
    });
    return reader;
  }
}

/** A visitor identity that may come back: its room and the state it had at its last `synced`. */
interface Identity {
  clientId: string;
  roomId: string;
  known: KnownState | null;
  busy: boolean;
}

/**
 * One churn visit: connect (new, or returning with `lastTimestamp` and an
 * offline edit), check the reply, move a cursor and write notes for a while,
 * wait for its acks, then leave cleanly or by terminating the socket.
 */
async function visit(load: SoakLoad, identity: Identity, rng: () => number, stayMs: number): Promise<void> {
  const { roomId, clientId } = identity;
  const returning = identity.known !== null;
  const cursorKey = `${clientId}/Cursor`;
  const noteWrite = (): Patch => {
    const key = `note-${int(rng, 0, NOTE_SLOTS - 1)}/Note`;
    return rng() < 0.2
      ? { [key]: { _exists: false } }
      : { [key]: { _exists: true, text: clientId, n: int(rng, 0, 1e6) } };
  };
  const socket = await LoadSocket.open(load, roomId, clientId);
  // E2: writers whose cursor the server acked before this reconnect must be in the reply.
  const expectedCursors = load.writers
    .filter((w) => w.socket.roomId === roomId && w.cursorAcked)
    .map((w) => w.cursorKey);
  const offline = returning && rng() < 0.5 ? [noteWrite()] : undefined;
  await syncAndCheck(socket, {
    prior: identity.known,
    offline,
    ephemeral: [{ [cursorKey]: { _exists: true, x: 0, y: 0 } }],
    onReply: (reply) => {
      const seen = new Set(reply.flatMap((f) => patchesOf(f, 'ephemeralPatches').flatMap(Object.keys)));
      for (const key of expectedCursors) {
        if (!seen.has(key)) load.failures.add(`[E2] ${socket.what} did not get cursor ${key} on connect`);
      }
    },
    onChecked: (state, ok) => {
      if (ok) identity.known = state;
    },
  });
  if (returning) load.returningVisits++;
  const until = performance.now() + stayMs;
  const writes = int(rng, 0, 2);
  const writeAt = Array.from({ length: writes }, () => rng() * stayMs).sort((a, b) => a - b);
  while (performance.now() < until && !socket.closed) {
    await sleep(200);
    socket.sendPatch(null, [{ [cursorKey]: { _exists: true, x: int(rng, 0, 1999), y: int(rng, 0, 1199) } }]);
    load.ephemeralUpdates++;
    const elapsed = stayMs - (until - performance.now());
    while (writeAt.length > 0 && (writeAt[0] as number) <= elapsed) {
      writeAt.shift();
      socket.sendPatch([noteWrite()]);
    }
  }
  // Leave only once every write is acked, so the oracle knows the fate of each.
  await pollUntil(() => socket.inFlight.size === 0 || socket.closed, `${socket.what} acks`);
  const clean = rng() < 0.5;
  if (clean) load.cleanLeaves++;
  else load.terminatedLeaves++;
  socket.leave(clean);
}

// ---------------------------------------------------------------- the load

export interface SoakShape {
  rooms: number;
  writersPerRoom: number;
  readersPerRoom: number;
  /** Transient rooms only visitors enter: they idle-close and reopen. */
  transientRooms: number;
  /** Each writer writes the document this often... */
  writeIntervalMs: number;
  /** ...and moves its cursor this often. */
  cursorIntervalMs: number;
  /** A new visitor socket this often. */
  visitorIntervalMs: number;
  visitorStayMs: [number, number];
  /** Returning identities kept for reconnects with a `lastTimestamp`. */
  returningPool: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds; throws after `timeoutMs` (a generous bound, not a measurement). */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The whole load: its actors, the oracle and the counters the test records. */
export class SoakLoad {
  readonly failures = new Failures();
  readonly sockets = new Set<LoadSocket>();
  readonly writers: Writer[] = [];
  readonly readers: Reader[] = [];
  readonly roomIds: string[] = [];
  readonly transientRoomIds: string[] = [];
  /** Per document write of a writer: send time (ms since start) and send->ack latency (ms). */
  readonly latencies: Array<{ at: number; ms: number }> = [];
  socketsOpened = 0;
  peakSockets = 0;
  framesSent = 0;
  framesReceived = 0;
  ephemeralUpdates = 0;
  visits = 0;
  returningVisits = 0;
  cleanLeaves = 0;
  terminatedLeaves = 0;
  startedAt = 0;
  private readonly models = new Map<string, RoomModel>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly visitsRunning = new Set<Promise<void>>();
  private readonly identities: Identity[] = [];
  private readonly rng: () => number;
  private churning = false;

  constructor(
    readonly port: number,
    readonly seed: number,
    readonly shape: SoakShape,
  ) {
    this.rng = seededRandom(childSeed(seed, 'visitors'));
    for (let r = 0; r < shape.rooms; r++) this.roomIds.push(`soak-room-${r}`);
    for (let r = 0; r < shape.transientRooms; r++) this.transientRoomIds.push(`soak-lobby-${r}`);
  }

  model(roomId: string): RoomModel {
    let model = this.models.get(roomId);
    if (!model) {
      model = new RoomModel(roomId, this.failures);
      this.models.set(roomId, model);
    }
    return model;
  }

  allModels(): RoomModel[] {
    return [...this.models.values()];
  }

  recordLatency(sentAt: number, ms: number): void {
    this.latencies.push({ at: sentAt - this.startedAt, ms });
  }

  /** Connects the writers and readers (synced), then starts the paced writes and the churn. */
  async start(): Promise<void> {
    for (const roomId of this.roomIds) {
      for (let w = 0; w < this.shape.writersPerRoom; w++) {
        this.writers.push(await Writer.start(this, roomId, `${roomId}-writer-${w}`));
      }
      for (let r = 0; r < this.shape.readersPerRoom; r++) {
        this.readers.push(await Reader.start(this, roomId, `${roomId}-reader-${r}`));
      }
    }
    this.startedAt = performance.now();
    // Each writer's ticks are spread over the interval so the load is even, not bursty.
    this.writers.forEach((writer, i) => {
      const phase = (i / this.writers.length) * this.shape.writeIntervalMs;
      this.every(this.shape.writeIntervalMs, phase, () => writer.writeDocument());
      this.every(this.shape.cursorIntervalMs, phase / 2, () => writer.moveCursor());
    });
    this.churning = true;
    this.every(this.shape.visitorIntervalMs, 0, () => this.startVisit());
  }

  private every(intervalMs: number, phaseMs: number, run: () => void): void {
    const first = setTimeout(() => {
      run();
      this.timers.push(setInterval(run, intervalMs));
    }, phaseMs);
    this.timers.push(first);
  }

  private startVisit(): void {
    if (!this.churning) return;
    const rng = this.rng;
    const free = this.identities.filter((identity) => !identity.busy && identity.known !== null);
    let identity: Identity;
    if (free.length > 0 && rng() < 0.35) {
      identity = pick(rng, free);
    } else {
      const rooms = rng() < 0.25 && this.transientRoomIds.length > 0 ? this.transientRoomIds : this.roomIds;
      identity = {
        clientId: `visitor-${this.visits}-${randomUUID().slice(0, 8)}`,
        roomId: pick(rng, rooms),
        known: null,
        busy: false,
      };
      if (this.identities.length < this.shape.returningPool) this.identities.push(identity);
    }
    identity.busy = true;
    this.visits++;
    const [min, max] = this.shape.visitorStayMs;
    const stay = int(rng, min, max);
    const visitRng = seededRandom(childSeed(this.seed, `visit-${this.visits}`));
    const running: Promise<void> = visit(this, identity, visitRng, stay)
      .catch((error: unknown) =>
        this.failures.add(`visit of ${identity.clientId}: ${(error as Error).message}`),
      )
      .finally(() => {
        identity.busy = false;
        this.visitsRunning.delete(running);
      });
    this.visitsRunning.add(running);
  }

  /** Stops the churn and the paced writes, and waits for every visit to end and every write to be acked. */
  async stop(): Promise<void> {
    this.churning = false;
    for (const timer of this.timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    await Promise.all([...this.visitsRunning]);
    await pollUntil(
      () => this.writers.every((w) => w.socket.inFlight.size === 0 || w.socket.closed),
      'the acks of every write',
    );
  }

  /** Writes sent that were never acked (acks are checked individually as they arrive). */
  unacked(): number {
    let count = 0;
    for (const socket of this.sockets) count += socket.inFlight.size;
    return count;
  }

  /** Closes the persistent clients: half with a clean close, half by terminating the socket. */
  closeAll(): void {
    [...this.writers, ...this.readers].forEach((actor, i) => {
      actor.socket.leave(i % 2 === 0);
    });
  }

  /** Reads a room as a fresh client from 0, checked against the oracle: what it read and what the model holds. */
  async freshRead(
    roomId: string,
  ): Promise<{ synced: number; document: DocState; ephemeral: DocState; checked: KnownState }> {
    const socket = await LoadSocket.open(this, roomId, `final-reader-${randomUUID().slice(0, 8)}`);
    const document: DocState = new Map();
    const ephemeral: DocState = new Map();
    let checked: KnownState | undefined;
    const synced = await syncAndCheck(socket, {
      prior: null,
      onReply: (reply) => {
        for (const frame of reply) {
          applyPatches(document, patchesOf(frame, 'documentPatches'));
          applyEphemeral(ephemeral, patchesOf(frame, 'ephemeralPatches'));
        }
      },
      onChecked: (state) => {
        checked = state;
      },
    });
    socket.leave(true);
    await pollUntil(() => checked !== undefined, `the check of the final read of ${roomId}`);
    return { synced, document, ephemeral, checked: checked as KnownState };
  }
}

// ------------------------------------------------------------------ helpers

/** GET on the server with a fresh connection closed after the answer (no keep-alive socket to skew fd counts). */
export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** What each open descriptor of process `pid` points to (for a failure message). */
export function fdTargets(pid: number): string {
  const dir = `/proc/${pid}/fd`;
  try {
    return readdirSync(dir)
      .map((fd) => {
        try {
          return readlinkSync(`${dir}/${fd}`);
        } catch {
          return '(closed)';
        }
      })
      .join(', ');
  } catch {
    return '(process gone)';
  }
}

/**
 * Theil-Sen slope: the median of the slopes between every pair of samples.
 * Unlike least squares, a few outliers (a sample taken mid-burst) cannot tilt it.
 */
export function theilSen(xs: readonly number[], ys: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = (xs[j] as number) - (xs[i] as number);
      if (dx !== 0) slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length / 2;
  return Number.isInteger(mid)
    ? ((slopes[mid - 1] as number) + (slopes[mid] as number)) / 2
    : (slopes[Math.floor(mid)] as number);
}

/**
 * Source of a preload that plants a leak in the server (for checking that the
 * heap criterion catches one; see `CANVAS_SOAK_INJECT_LEAK` in soak.test.ts):
 * `frame:<bytes>` keeps that much JS heap per received WebSocket message,
 * `session:0` keeps every closed WebSocket object (a session map never pruned).
 */
export function leakPreloadSource(spec: string): string {
  const [kind, bytes] = spec.split(':');
  if ((kind !== 'frame' && kind !== 'session') || !Number.isFinite(Number(bytes))) {
    throw new Error(`CANVAS_SOAK_INJECT_LEAK must be frame:<bytes> or session:0, got "${spec}"`);
  }
  const wsPath = createRequire(CLI).resolve('ws');
  return `
import { createRequire } from 'node:module';
const WebSocket = createRequire(import.meta.url)(${JSON.stringify(wsPath)});
const kept = [];
globalThis.__soakLeak = kept;
const emit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (event, ...args) {
  if (${JSON.stringify(kind)} === 'frame' && event === 'message') kept.push(new Array(${Math.ceil(Number(bytes) / 8)}).fill(0));
  if (${JSON.stringify(kind)} === 'session' && event === 'close') kept.push(this);
  return emit.call(this, event, ...args);
};
`;
}
