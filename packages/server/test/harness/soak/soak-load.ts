/**
 * Load generator of the soak test (reliability/soak.test.ts), the entry point
 * of test/harness/soak: a paced mixed
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
import { seededRandom } from '../../helpers/seeded-random.js';
import { type Identity, Reader, visit, Writer } from './actors.js';
import { applyEphemeral, applyPatches, childSeed, type DocState, int, patchesOf, pick } from './doc-state.js';
import { LoadSocket, syncAndCheck } from './load-socket.js';
import { Failures, type KnownState, RoomModel } from './room-model.js';

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

export function sleep(ms: number): Promise<void> {
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
