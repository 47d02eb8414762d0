/**
 * The chaos convergence run (reliability/chaos-convergence.test.ts), phase by
 * phase: its settings, the seeded schedule of edits, offline periods, bursts,
 * reconnect storms and SIGKILLs, and the settling poll. The rules the edits
 * follow are in the test file's comment.
 */
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { seededRandom } from '../helpers/seeded-random.js';
import {
  type EditorActor,
  type Fields,
  FrameTap,
  OurActor,
  PublishedActor,
  RawWriterActor,
  type SocketConstructor,
} from './chaos-actors.js';
import { type ClientEnvironment, type DocModel, installClientEnvironment, plain } from './client-harness.js';
import { AckedModel, type RoomView, readRoom } from './crash/wire-clients.js';
import { freePort } from './free-port.js';
import { scaled } from './reliability-harness.js';
import { type ServerProcess, tempDir } from './server-process.js';
import { startOursOnPort } from './target-server.js';

export const SEED = Number(process.env.CHAOS_SEED ?? 20_261_126);
export const ROOMS = scaled(3, 4);
const OURS_PER_ROOM = scaled(2, 3);
const PUBLISHED_PER_ROOM = scaled(2, 3);
const WRITERS_PER_ROOM = scaled(1, 2);
/** Schedule steps; each makes one or two edits and waits a few ms. */
export const STEPS = scaled(1_200, 15_000);
const KILLS = scaled(3, 12);
const STORMS = scaled(3, 15);
/** Probability per step that a client starts an offline period / a raw writer a burst. */
const OFFLINE_CHANCE = 0.02;
const BURST_CHANCE = 0.04;
export const TEST_TIMEOUT_MS = scaled(300_000, 1_200_000);
/** Generous bound for the final convergence (a poll, not a timing assertion). */
const SETTLE_TIMEOUT_MS = 120_000;

/** Shared keys nobody deletes: LWW field conflicts, and arrays sent as buffer deltas. */
const SHAPES = ['shape-0/Shape', 'shape-1/Shape', 'shape-2/Shape', 'shape-3/Shape'];
const STROKES = ['stroke-0/Stroke', 'stroke-1/Stroke'];
/** Shared keys deleted by anyone and re-created (whole) by our clients. */
const CHURN = ['churn-0/Shape', 'churn-1/Shape', 'churn-2/Shape', 'churn-3/Shape'];
const OWN_KEYS_PER_CLIENT = 3;
const COLORS = ['red', 'green', 'blue', 'black'];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The live document of a reader's reply (client documents hold no tombstones). */
export function liveOf(view: RoomView): DocModel {
  const live: DocModel = {};
  for (const [key, fields] of view.state) if (fields._exists !== false) live[key] = fields;
  return plain(live);
}

/** The keys on which `doc` and `reference` differ, with both values (for failure messages). */
function differences(doc: DocModel, reference: DocModel, limit = 10): string[] {
  const keys = [...new Set([...Object.keys(doc), ...Object.keys(reference)])].sort();
  return keys
    .filter((key) => !isDeepStrictEqual(doc[key], reference[key]))
    .slice(0, limit)
    .map((key) => `${key}: client ${JSON.stringify(doc[key])}, reader ${JSON.stringify(reference[key])}`);
}

/** Acked writes and deletions of `roomId` the reader's reply does not hold as recorded. */
export function missingAcked(model: AckedModel, roomId: string, view: RoomView): string[] {
  const missing: string[] = [];
  for (const [key, expected] of model.room(roomId)) {
    const want = expected.kind === 'live' ? { _exists: true, v: expected.v } : { _exists: false };
    const got = view.state.get(key);
    if (got === undefined || !isDeepStrictEqual(plain(got), want)) {
      missing.push(
        `${roomId} ${key}: acked ${JSON.stringify(want)} at ${expected.timestamp}, got ${JSON.stringify(got)}`,
      );
    }
  }
  return missing;
}

/** Indices spread evenly over the run, each moved by a seeded jitter. */
function spreadSteps(count: number, random: () => number, offset: number): number[] {
  const gap = STEPS / (count + 1);
  return Array.from({ length: count }, (_, i) =>
    Math.floor(gap * (i + 1 + offset) + (random() - 0.5) * gap * 0.4),
  );
}

/**
 * One chaos run, phase by phase: its seeded choices, the server generations,
 * the actors (kept in the module's `this.editors` and `this.writers` for `afterEach`)
 * and what it counted. Each method is one phase of the test below.
 */
export class ChaosRun {
  readonly random = seededRandom(SEED);
  readonly context = `seed ${SEED} (set CHAOS_SEED to replay)`;
  readonly dataDir = tempDir('canvas-chaos-');
  readonly generations: ServerProcess[] = [];
  readonly model = new AckedModel();
  readonly rooms = Array.from({ length: ROOMS }, (_, i) => `chaos-room-${i}`);
  readonly published: PublishedActor[] = [];
  readonly tap = new FrameTap();
  readonly counts = {
    clientEdits: 0,
    offlineEdits: 0,
    offlinePeriods: 0,
    reconnectStorms: 0,
    socketsDroppedInStorms: 0,
    serverKills: 0,
    ackedKeysVerifiedAtRestarts: 0,
    writesInFlightAtKills: 0,
  };
  readonly lost: string[] = [];
  /** Keys a single client writes whose value changed under it (someone else's data resurrected them). */
  readonly ownChanged: string[] = [];
  server: ServerProcess | undefined;
  private nextValue = 0;
  private readonly backAt = new Map<EditorActor, number>();
  private restartAt = 0;
  private abandonedBeforeKill = 0;
  private restartedAt = 0;
  private pendingStorms = 0;

  readonly editors: EditorActor[] = [];
  readonly writers: RawWriterActor[] = [];
  env: ClientEnvironment | undefined;
  restoreWebSocket: (() => void) | undefined;

  private constructor(readonly port: number) {}

  /** Closes every actor and puts the globals back (the test's `afterEach`, before `cleanup`). */
  release(): void {
    for (const editor of this.editors) editor.close();
    for (const writer of this.writers) writer.writer.terminate();
    this.restoreWebSocket?.();
    this.env?.restore();
  }

  between(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  /** Phase 1: our server on a free port, every editor socket through the tap, the actors of every room. */
  static async start(onCreated: (run: ChaosRun) => void): Promise<ChaosRun> {
    const run = new ChaosRun(await freePort());
    // Handed out before anything starts, so that the test's afterEach can release a run that failed to start.
    onCreated(run);
    run.server = await startOursOnPort(run.port, run.dataDir);
    run.generations.push(run.server);
    const url = `ws://127.0.0.1:${run.port}/`;

    // Every socket the editors open goes through the tap.
    const env = installClientEnvironment();
    run.env = env;
    const globals = globalThis as unknown as { WebSocket: SocketConstructor };
    const recording = globals.WebSocket;
    globals.WebSocket = run.tap.wrap(recording);
    run.restoreWebSocket = () => {
      globals.WebSocket = recording;
    };

    for (const [r, roomId] of run.rooms.entries()) {
      for (let i = 0; i < OURS_PER_ROOM; i++)
        run.editors.push(new OurActor(`ours-${r}-${i}`, roomId, url, run.tap));
      for (let i = 0; i < PUBLISHED_PER_ROOM; i++) {
        const actor = new PublishedActor(`published-${r}-${i}`, roomId, url, env, run.tap);
        run.published.push(actor);
        run.editors.push(actor);
      }
      for (let i = 0; i < WRITERS_PER_ROOM; i++)
        run.writers.push(new RawWriterActor(`raw-${r}-${i}`, roomId, run.model));
    }
    await Promise.all(run.published.map((actor) => actor.connect()));
    return run;
  }

  /** One random edit by `actor`, following the rules of the file comment. */
  randomEdit(actor: EditorActor): void {
    const n = this.nextValue++;
    const roll = this.random();
    if (roll < 0.3) {
      const fields: Fields = {};
      if (this.random() < 0.6) fields.x = this.between(0, 999);
      if (this.random() < 0.6) fields.y = this.between(0, 999);
      if (this.random() < 0.4 || Object.keys(fields).length === 0) fields.color = `${this.pick(COLORS)}-${n}`;
      actor.update(this.pick(SHAPES), fields);
    } else if (roll < 0.45) {
      const key = this.pick(STROKES);
      if (this.random() < 0.2) {
        actor.update(key, { width: this.between(1, 9) });
        return;
      }
      const current = actor.view(key)?.points;
      const points = Array.isArray(current) ? [...(current as number[])] : [];
      const shape = this.random();
      if (shape < 0.6) for (let i = this.between(1, 6); i > 0; i--) points.push(this.between(0, 999));
      else if (shape < 0.85 && points.length > 0) points[this.between(0, points.length - 1)] = n;
      else points.length = Math.floor(points.length / 2);
      actor.setPoints(key, 'points', points);
    } else if (roll < 0.6) {
      const key = this.pick(CHURN);
      const whole = () => ({
        x: this.between(0, 999),
        y: this.between(0, 999),
        color: `${this.pick(COLORS)}-${n}`,
        points: Array.from({ length: this.between(0, 12) }, () => this.between(0, 99)),
      });
      if (actor.view(key) === undefined) {
        if (actor.kind === 'ours') actor.create(key, whole());
        else actor.update(this.pick(SHAPES), { x: n });
      } else if (actor.kind === 'ours' && this.random() < 0.35) {
        // Deleted and re-created in one frame: nothing of the old component may come back (D4, D5).
        actor.batch(() => {
          actor.remove(key);
          actor.create(key, whole());
        });
      } else if (actor.canRemove()) {
        actor.remove(key);
      } else {
        actor.update(this.pick(SHAPES), { y: n });
      }
    } else {
      const key = `own-${actor.clientId}-${this.between(0, OWN_KEYS_PER_CLIENT - 1)}/Note`;
      const whole = { text: `${actor.clientId}#${n}`, n };
      // Nobody else writes this key: the client's view must be what it wrote last.
      const current = actor.view(key) ?? null;
      if (!isDeepStrictEqual(current, actor.own.get(key) ?? null)) {
        this.ownChanged.push(
          `${key}: wrote ${JSON.stringify(actor.own.get(key))}, sees ${JSON.stringify(current)}`,
        );
      }
      if (current === null) {
        actor.create(key, whole);
        actor.own.set(key, { _exists: true, ...whole });
      } else if (this.random() < 0.25 && actor.canRemove()) {
        actor.remove(key);
        actor.own.set(key, null);
      } else {
        // Our client may update any of the fields; the published one sends them all.
        const fields: Fields =
          actor.kind === 'published' || this.random() < 0.3
            ? whole
            : this.random() < 0.5
              ? { n }
              : { text: whole.text };
        actor.update(key, fields);
        actor.own.set(key, { ...current, ...fields });
      }
    }
  }

  /** SIGKILL while every raw writer streams (writes in flight) and the clients keep editing. */
  private async killDuringBursts(step: number): Promise<void> {
    const killed = this.server as ServerProcess;
    const acksBeforeKill = this.between(5, 60);
    for (const writer of this.writers) writer.burst(this.port, 200);
    const streaming = Date.now() + 10_000;
    while (
      Date.now() < streaming &&
      !this.writers.every((w) => w.isConnected && w.acksInBurst >= acksBeforeKill)
    ) {
      await sleep(5);
    }
    this.server = undefined;
    this.abandonedBeforeKill = this.model.abandoned;
    const exit = await killed.stop('SIGKILL');
    expect(exit.signal, this.context).toBe('SIGKILL');
    this.counts.serverKills++;
    this.restartAt = step + this.between(20, 60);
  }

  /** Restarts the server and checks that every write acked before the kill is there. */
  private async restartAndVerifyAcked(step: number): Promise<void> {
    this.server = await startOursOnPort(this.port, this.dataDir);
    this.generations.push(this.server);
    // No writer connects while the server is down: what they abandoned since the kill was in flight at it.
    this.counts.writesInFlightAtKills += this.model.abandoned - this.abandonedBeforeKill;
    // Every write acked before the kill is there (the this.writers' keys are theirs alone; no resync heals them).
    for (const roomId of this.rooms) {
      const missing = missingAcked(this.model, roomId, await readRoom(this.port, roomId, 0));
      this.counts.ackedKeysVerifiedAtRestarts += this.model.room(roomId).size;
      this.lost.push(...missing.map((line) => `after restart ${this.counts.serverKills}: ${line}`));
    }
    this.restartedAt = step;
  }

  /** Every client of one room loses its socket at once and reconnects. */
  private storm(): void {
    const roomId = this.pick(this.rooms);
    this.counts.reconnectStorms++;
    for (const actor of this.editors) {
      if (actor.roomId === roomId && actor.drop()) this.counts.socketsDroppedInStorms++;
    }
    for (const writer of this.writers) {
      if (writer.roomId === roomId && writer.isConnected) {
        this.counts.socketsDroppedInStorms++;
        writer.burst(this.port, this.between(10, 40));
      }
    }
  }

  /** Phase 2: the seeded schedule of edits, offline periods, bursts, storms and SIGKILLs with restarts. */
  async runSchedule(): Promise<void> {
    const killSteps = new Set(spreadSteps(KILLS, this.random, 0));
    const stormSteps = new Set(spreadSteps(STORMS, this.random, 0.5));
    for (let step = 0; step < STEPS; step++) {
      if (this.server && killSteps.has(step)) await this.killDuringBursts(step);
      if (!this.server && step >= this.restartAt) await this.restartAndVerifyAcked(step);
      if (stormSteps.has(step)) this.pendingStorms++;
      // A storm hits connected clients: not while the server is down or its clients are reconnecting.
      if (this.pendingStorms > 0 && this.server && step >= this.restartedAt + 15) {
        this.pendingStorms--;
        this.storm();
      }
      for (const [actor, at] of this.backAt) {
        if (at > step) continue;
        this.backAt.delete(actor);
        actor.comeBack();
      }
      if (this.random() < OFFLINE_CHANCE) {
        const actor = this.pick(this.editors);
        const roomOffline = this.editors.filter((a) => a.roomId === actor.roomId && a.offline).length;
        if (!actor.offline && roomOffline < (OURS_PER_ROOM + PUBLISHED_PER_ROOM) / 2) {
          actor.goOffline();
          this.backAt.set(actor, step + this.between(20, 150));
          this.counts.offlinePeriods++;
        }
      }
      for (let edits = this.random() < 0.3 ? 2 : 1; edits > 0; edits--) {
        const actor = this.pick(this.editors);
        if (!actor.canEdit()) continue;
        this.randomEdit(actor);
        this.counts.clientEdits++;
        if (actor.offline || !this.server) this.counts.offlineEdits++;
      }
      if (this.server && this.random() < BURST_CHANCE)
        this.pick(this.writers).burst(this.port, this.between(10, 60));
      for (const actor of this.published) actor.pull();
      await sleep(this.between(5, 30));
    }
  }

  /**
   * Phase 3: the server up, everyone online, this.writers stopped; polls until every
   * client is idle, caught up and holds the reader's document, twice at the
   * same clocks. Returns the reader's last views.
   */
  async settle(): Promise<{ liveServer: ServerProcess; views: Map<string, RoomView> }> {
    if (!this.server) {
      this.server = await startOursOnPort(this.port, this.dataDir);
      this.generations.push(this.server);
    }
    const liveServer: ServerProcess = this.server;

    // Everyone online again; this.writers stop.
    await Promise.all(this.writers.map((writer) => writer.stop()));
    for (const actor of this.editors) if (actor.offline) actor.comeBack();
    this.backAt.clear();

    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let views = new Map<string, RoomView>();
    let previousClocks = '';
    let stableRounds = 0;
    for (;;) {
      // The published adapters reconnect on their own timer (it backs off to 10 s while the server is down).
      for (const actor of this.published) actor.pull();
      views = new Map();
      for (const roomId of this.rooms) views.set(roomId, await readRoom(this.port, roomId, 0));
      const reasons: string[] = [];
      for (const actor of this.editors) {
        const view = views.get(actor.roomId) as RoomView;
        const busy = actor.busy(view.timestamp);
        if (busy) reasons.push(`${actor.clientId}: ${busy}`);
        else if (!isDeepStrictEqual(actor.document(), liveOf(view))) {
          reasons.push(
            `${actor.clientId}: document differs from the reader's: ${differences(actor.document(), liveOf(view)).join(' | ')}`,
          );
        }
      }
      const clocks = JSON.stringify(this.rooms.map((roomId) => views.get(roomId)?.timestamp));
      stableRounds = reasons.length === 0 && clocks === previousClocks ? stableRounds + 1 : 0;
      previousClocks = clocks;
      if (stableRounds >= 2) break;
      if (Date.now() > deadline) {
        // Fall through to the assertions below, which show the first difference.
        console.log(`[chaos] did not settle (${this.context}): ${reasons.join('; ')}`);
        break;
      }
      await sleep(250);
    }
    return { liveServer, views };
  }
}
