/**
 * The soak load's actors: writers at a fixed pace, listening readers, and
 * churning visitors that come and go (see soak-load.ts for the whole load).
 */
import { seededRandom } from '../../helpers/seeded-random.js';
import {
  applyEphemeral,
  applyPatches,
  type Component,
  childSeed,
  type DocState,
  int,
  type Patch,
  patchesOf,
  pick,
} from './doc-state.js';
import { LoadSocket, syncAndCheck } from './load-socket.js';
import type { KnownState } from './room-model.js';
import { pollUntil, type SoakLoad, sleep } from './soak-load.js';

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
export interface Identity {
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
export async function visit(
  load: SoakLoad,
  identity: Identity,
  rng: () => number,
  stayMs: number,
): Promise<void> {
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
