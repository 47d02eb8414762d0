/**
 * Helpers of the slow and vanished clients suite
 * (reliability/slow-and-vanished-clients.test.ts): seeded shuffles, reads of
 * the server's metrics, admin API and descriptors, a sampler of the memory
 * peak, {@link HealthyRoom}, the well-behaved clients whose every ack and
 * broadcast is checked, and the set-up of the vanish rounds ({@link openLobby}).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { expect } from 'vitest';
import { PeerProcess } from './frozen-peer.js';
import { type ProbeReading, scaled, startProbedServer } from './reliability-harness.js';
import {
  type Frame,
  metric,
  parseMetrics,
  type Sample,
  type ServerProcess,
  tempDir,
  type WireClient,
  waitUntil,
} from './server-process.js';

/** The seed of the suite's random choices (`CANVAS_SLOW_SEED` overrides it). */
export const SEED = Number(process.env.CANVAS_SLOW_SEED ?? 0x5e1f);
export const ADMIN_SECRET = 'slow-clients-admin-secret';
/** Waits here are for whole heartbeat rounds and idle timeouts on a loaded machine: generous. */
export const LONG_WAIT_MS = 60_000;

/** A seeded Fisher-Yates shuffle (a copy). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** What the server retains after a full GC: JS heap plus the buffers outside it (queued frames live there). */
export function retained(reading: ProbeReading): number {
  return reading.heapUsed + reading.external;
}

/**
 * GET over a fresh connection that the server closes after answering: no
 * keep-alive socket stays open in the server to blur its descriptor count.
 */
function httpGet(server: ServerProcess, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        agent: false,
        headers: { ...headers, connection: 'close' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${path} answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function metricsOf(server: ServerProcess): Promise<Sample[]> {
  return parseMetrics(await httpGet(server, '/metrics'));
}

/** A metric's value, 0 when the series does not exist (a counter never incremented). */
export async function metricNow(server: ServerProcess, name: string, labels: Record<string, string> = {}) {
  return metric(await metricsOf(server), name, labels) ?? 0;
}

/** Open rooms and their session counts, from the admin API. */
export async function adminRooms(server: ServerProcess): Promise<Map<string, number>> {
  const body = await httpGet(server, '/admin/rooms', { authorization: `Bearer ${ADMIN_SECRET}` });
  const { rooms } = JSON.parse(body) as { rooms: { roomId: string; sessions: number }[] };
  return new Map(rooms.map((room) => [room.roomId, room.sessions]));
}

/** What each descriptor of a process points at (for failure messages). */
export function fdTargets(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, '[…]'));
    } catch {
      // Closed while listing.
    }
  }
  return targets.sort();
}

/** How many of a process's descriptors are sockets (connections, listeners). */
export function socketsOf(pid: number): number {
  return fdTargets(pid).filter((target) => target.startsWith('socket:')).length;
}

/** The underlying TCP socket of a `ws` client. */
export function tcpOf(client: WireClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

export function lastClientCount(client: WireClient, from = 0): number | undefined {
  return client.frames
    .slice(from)
    .filter((f) => f.type === 'clientCount')
    .at(-1)?.count as number | undefined;
}

/**
 * Client counts a reader saw while sessions only left (SPEC S1, R2): at least
 * one frame, each lower than the one before, the last equal to `final`.
 */
export function expectFallingTo(counts: number[], final: number, what: string): void {
  expect(counts.length, what).toBeGreaterThan(0);
  for (let k = 1; k < counts.length; k++) {
    expect(counts[k], `${what}: ${counts.join(', ')}`).toBeLessThan(counts[k - 1] as number);
  }
  expect(counts.at(-1), what).toBe(final);
}

/**
 * A room's healthy pair: a writer that writes one frame at a time (each acked
 * before the next) and a reader that must receive each of those writes.
 */
export class HealthyRoom {
  /** Ack timestamps of every write, in order. */
  readonly acks: number[] = [];
  private stopRequested = false;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    readonly roomId: string,
    readonly writer: WireClient,
    readonly reader: WireClient,
  ) {}

  static async open(server: ServerProcess, roomId: string): Promise<HealthyRoom> {
    const writer = await server.connect(roomId, `${roomId}-writer`);
    await writer.sync(0);
    const reader = await server.connect(roomId, `${roomId}-reader`);
    await reader.sync(0);
    return new HealthyRoom(roomId, writer, reader);
  }

  /** One write of `doc/Blob` (always the same key: the document does not grow with the amount written). */
  async writeOnce(text: string): Promise<void> {
    const ack = await this.writer.write([{ 'doc/Blob': { _exists: true, text, n: this.acks.length } }]);
    this.acks.push(ack.timestamp as number);
  }

  /**
   * Writes in the background until {@link stop}, one write per `pauseMs` at
   * most: a healthy editor, well under the default rate limit (100 frames/s).
   */
  start(text: () => string, pauseMs = 20): void {
    this.stopRequested = false;
    this.loop = (async () => {
      while (!this.stopRequested) {
        await this.writeOnce(text());
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })();
    // Reported by stop(); not an unhandled rejection meanwhile.
    this.loop.catch(() => {});
  }

  /** Stops the background writes; rejects if one was not acked. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.loop;
  }

  /**
   * [A3] [O3] The reader received every acked write exactly once, in clock
   * order, and the writer and reader are still connected.
   */
  async expectEveryWriteDelivered(context: string): Promise<void> {
    const last = this.acks.at(-1);
    if (last !== undefined) {
      await this.reader.waitForFrame(
        `${this.roomId}: the broadcast of the last write`,
        (f) => f.type === 'patch' && f.timestamp === last,
      );
    }
    const delivered = this.reader.frames
      .filter((f: Frame) => f.type === 'patch' && f.clientId === `${this.roomId}-writer`)
      .map((f) => f.timestamp);
    expect(delivered, `${context}: ${this.roomId} reader (seed ${SEED})`).toEqual(this.acks);
    expect(this.writer.closeInfo, `${context}: ${this.roomId} writer`).toBeUndefined();
    expect(this.reader.closeInfo, `${context}: ${this.roomId} reader`).toBeUndefined();
  }
}

/**
 * Samples the server's retained memory (a full GC each time) until `stop`,
 * which resolves with the highest reading, `start` included. Each probe is a
 * full GC in the server, so the samples leave it time to serve in between.
 */
export function samplePeak(
  probe: () => Promise<ProbeReading>,
  start: ProbeReading,
): { stop(): Promise<ProbeReading> } {
  let sampling = true;
  let peak = start;
  const sampler = (async () => {
    while (sampling) {
      const reading = await probe();
      if (retained(reading) > retained(peak)) peak = reading;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  // A failed probe is reported by stop(), not as an unhandled rejection.
  sampler.catch(() => {});
  return {
    async stop() {
      sampling = false;
      await sampler;
      return peak;
    },
  };
}

/** The keys of the cursors `frames` set (`removed` false) or removed (`removed` true). */
export function cursorKeys(frames: Frame[], removed: boolean): string[] {
  return frames
    .filter((f) => f.type === 'patch' && Array.isArray(f.ephemeralPatches))
    .flatMap((f) => (f.ephemeralPatches as Record<string, { _exists?: unknown }>[]).flatMap(Object.entries))
    .filter(([, value]) => (value._exists === false) === removed)
    .map(([key]) => key);
}

/**
 * Waits until the server holds no more descriptors than `baseline` and returns
 * that reading; if it does not come, the error names the descriptors that are
 * new beside `atBaseline` (their /proc link targets).
 */
export async function descriptorsBack(
  server: ServerProcess,
  probe: () => Promise<ProbeReading>,
  baseline: number,
  atBaseline: string[],
  context: string,
): Promise<ProbeReading> {
  return waitUntil(
    'the descriptors back to the baseline',
    async () => {
      const reading = await probe();
      return reading.fds <= baseline ? reading : undefined;
    },
    LONG_WAIT_MS,
  ).catch((error: Error) => {
    const now = fdTargets(server.pid);
    const extra = now.filter(
      (t) => now.filter((u) => u === t).length > atBaseline.filter((u) => u === t).length,
    );
    throw new Error(
      `${error.message} (${context}): baseline ${baseline}, now ${now.length}; new: ${[...new Set(extra)].join(' ')}`,
    );
  });
}

/** The vanish-rounds scenario's sizes (the suite's last test). */
const ROUNDS = scaled(5, 30);
const ROOMS_PER_ROUND = scaled(3, 4);
const FROZEN_PER_ROOM = scaled(8, 20);
const CUT_PER_ROOM = 2;
const perRound = ROOMS_PER_ROUND * (FROZEN_PER_ROOM + CUT_PER_ROOM);
export const VANISH_ROUNDS = { ROUNDS, ROOMS_PER_ROUND, FROZEN_PER_ROOM, CUT_PER_ROOM, perRound };
const roomsOf = (round: number) => range(ROOMS_PER_ROUND).map((k) => `round${round}-room${k}`);

/** Phase 1 of the vanish rounds: the server on durable storage, a healthy lobby, the baselines. */
export async function openLobby() {
  const dataDir = tempDir('canvas-slow-');
  // Durable storage, as in production: a released room's document leaves the heap.
  const { server, probe } = await startProbedServer({
    args: [
      '--storage',
      'sqlite',
      '--data-dir',
      dataDir,
      '--heartbeat-interval',
      '1000',
      '--idle-timeout',
      '200',
      '--admin-secret',
      ADMIN_SECRET,
    ],
  });
  // A healthy room that lives through every round.
  const lobby = await HealthyRoom.open(server, 'lobby');
  await lobby.reader.waitFor('the pair', () => (lastClientCount(lobby.reader) === 2 ? true : undefined));
  const baseline = await probe();
  const socketsBaseline = socketsOf(server.pid);
  const spawnPeers = (round: number) =>
    PeerProcess.spawn({
      origin: `ws://127.0.0.1:${server.port}`,
      peers: roomsOf(round).flatMap((roomId) =>
        range(FROZEN_PER_ROOM).map((j) => ({ roomId, clientId: `${roomId}-frozen-${j}` })),
      ),
      // Enough per-session state that a leak of it would stand out from the
      // noise (V8 compiling more code as rounds go by).
      cursorBytes: 16_384,
      noteBytes: 32_768,
    });
  return { server, probe, lobby, baseline, socketsBaseline, spawnPeers };
}
export type Lobby = Awaited<ReturnType<typeof openLobby>>;

/** Phase 2 of a round (its peer process open): per room, peers of this process, each with a note and a cursor. */
export async function connectCutPeers({ server }: Lobby, round: number): Promise<WireClient[]> {
  const cut: WireClient[] = [];
  for (const roomId of roomsOf(round)) {
    for (const c of range(CUT_PER_ROOM)) {
      const client = await server.connect(roomId, `${roomId}-cut-${c}`);
      await client.sync(0);
      await client.write(
        [{ [`${roomId}-cut-${c}/Note`]: { _exists: true, text: 'n'.repeat(32_768) } }],
        [{ [`${roomId}-cut-${c}/Cursor`]: { label: 'c'.repeat(16_384) } }],
      );
      cut.push(client);
    }
  }
  await waitUntil('every peer connected', async () =>
    (await metricNow(server, 'canvas_connections')) === 2 + perRound ? true : undefined,
  );
  return cut;
}
