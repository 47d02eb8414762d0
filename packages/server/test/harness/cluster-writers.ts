/**
 * Raw wire writers for the cluster failure tests. Each writer keeps one write
 * in flight on a node of the cluster, each write a new key, and records what
 * the cluster promised: every acked key and value, every acked clock, and the
 * patch each clock stood for in acks and broadcasts. When its node dies or
 * closes the socket (1012), the writer reconnects to another live node with
 * its last clock (an ordinary D7 reconnect) and goes on. The checks are the
 * issue's: no acked write lost, no clock acked twice, the same patch for a
 * clock everywhere, no `resync` (a room clock that went backwards).
 */
import type { TestCluster } from './cluster-nodes.js';
import { documentOf, type Frame, type Patch, type WireClient } from './server-process.js';

/** What every writer of a run reports into (shared, so clock reuse across writers shows). */
export class Ledger {
  /** Acked writes: key to the value written. */
  readonly acked = new Map<string, number>();
  /** Every clock value acked (by any writer) with the key it stamped. */
  readonly ackedClocks = new Map<number, string>();
  /** Clock values acked more than once. */
  readonly reusedClocks: number[] = [];
  /** Clock to the document patch seen for it (ack or broadcast), as JSON. */
  readonly patchAt = new Map<number, string>();
  /** Clocks for which two different patches were seen. */
  readonly conflicts: number[] = [];
  /** `resync` frames received (the room clock was below a client's last clock: lost writes). */
  resyncs = 0;
  /** Close codes writers saw, for the report. */
  readonly closeCodes: number[] = [];
  /** Where and when each key was acked: clock, the node the writer was on, Date.now(). */
  readonly ackOf = new Map<string, { clock: number; node: string; at: number }>();
  /** When each ack arrived (Date.now()), in arrival order: for time-to-writable figures. */
  readonly ackTimes: number[] = [];
  /** When each acked write was sent and when its ack arrived (Date.now()), in arrival order. */
  readonly ackSpans: Array<{ sentAt: number; at: number }> = [];

  /** The first ack that arrived after `since`, if any. */
  firstAckAfter(since: number): number | undefined {
    return this.ackTimes.find((time) => time > since);
  }

  /**
   * When the first write sent after `since` was acked, if any: the moment the
   * room was writable again after a failure at `since` (an ack of a write sent
   * before it may still arrive from the old owner, relayed late).
   */
  firstAckOfWriteSentAfter(since: number): number | undefined {
    return this.ackSpans.find((span) => span.sentAt > since)?.at;
  }

  recordAck(clock: number, key: string, patch: Patch[], node = '?', sentAt = Number.NaN): void {
    this.ackTimes.push(Date.now());
    this.ackSpans.push({ sentAt, at: Date.now() });
    this.ackOf.set(key, { clock, node, at: Date.now() });
    if (this.ackedClocks.has(clock)) this.reusedClocks.push(clock);
    this.ackedClocks.set(clock, key);
    this.recordPatch(clock, patch);
  }

  recordPatch(clock: number, patch: Patch[]): void {
    const text = JSON.stringify(patch);
    const seen = this.patchAt.get(clock);
    if (seen !== undefined && seen !== text) this.conflicts.push(clock);
    else this.patchAt.set(clock, text);
  }

  /** `keys` with where and when they were acked, for a failure message. */
  describe(keys: readonly string[]): string {
    return keys.map((key) => `${key}: ${JSON.stringify(this.ackOf.get(key))}`).join('; ');
  }

  /**
   * The acked keys missing from `doc` or holding another value. While writers
   * run, pass `acked` as copied before `doc` was read: a write acked after the
   * read started may rightly be missing from it.
   */
  missingFrom(doc: Patch, acked: ReadonlyMap<string, number> = this.acked): string[] {
    return [...acked].filter(([key, value]) => doc[key]?.v !== value).map(([key]) => key);
  }
}

/** Per-write bound: a write whose ack does not come by then is counted unacked and the socket dropped. */
const WRITE_BOUND_MS = 10_000;

/** One writer: `w<index>-<seq>` keys, one in flight, reconnecting to live nodes. */
export class ClusterWriter {
  private seq = 0;
  private lastClock = 0;
  private stopped = false;
  /** Connections opened (1 + reconnects). */
  connections = 0;
  /** The node of the current connection. */
  private nodeId = '';
  /** The writer's current socket (undefined between connections). */
  client: WireClient | undefined;

  constructor(
    private readonly cluster: TestCluster,
    readonly roomId: string,
    readonly index: number,
    private readonly ledger: Ledger,
  ) {}

  /** Writes until {@link stop}; resolves once the loop ended. */
  async run(): Promise<void> {
    while (!this.stopped) {
      const client = await this.open().catch(() => undefined);
      if (!client) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.client = client;
      while (!this.stopped && client.closeInfo === undefined) {
        const key = `w${this.index}-${this.seq++}`;
        const value = this.seq;
        const patch: Patch[] = [{ [key]: { _exists: true, v: value } }];
        const sentAt = Date.now();
        const ack = await this.bounded(client.write(patch)).catch(() => undefined);
        if (!ack) break;
        const clock = ack.timestamp as number;
        this.ledger.acked.set(key, value);
        this.ledger.recordAck(clock, key, patch, this.nodeId, sentAt);
        this.lastClock = Math.max(this.lastClock, clock);
      }
      if (client.closeInfo) this.ledger.closeCodes.push(client.closeInfo.code);
      client.ws.terminate();
      this.client = undefined;
    }
  }

  /** Ends the loop after the write in flight. */
  stop(): void {
    this.stopped = true;
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('write bound')), WRITE_BOUND_MS);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** Connects to a live node (a different one after each loss) and syncs from the last clock. */
  private async open(): Promise<WireClient> {
    const node = this.cluster.pick(this.index + this.connections);
    this.connections++;
    this.nodeId = node.id;
    const client = await node.server.connect(this.roomId, `writer-${this.index}`);
    client.ws.on('message', () => this.observe(client));
    const { synced } = await this.bounded(client.sync(this.lastClock));
    this.lastClock = Math.max(this.lastClock, synced.timestamp as number);
    return client;
  }

  private observedUpTo = new WeakMap<WireClient, number>();

  /** Takes broadcasts and resyncs into the ledger. */
  private observe(client: WireClient): void {
    const from = this.observedUpTo.get(client) ?? 0;
    for (const frame of client.frames.slice(from)) this.take(frame);
    this.observedUpTo.set(client, client.frames.length);
  }

  private take(frame: Frame): void {
    if (frame.type === 'resync') this.ledger.resyncs++;
    if (frame.type === 'patch' && frame.clientId !== '' && typeof frame.timestamp === 'number') {
      this.ledger.recordPatch(frame.timestamp, frame.documentPatches as Patch[]);
    }
  }
}

/** Starts `count` writers in `roomId` spread over the live nodes; returns them and their loops. */
export function startWriters(
  cluster: TestCluster,
  roomId: string,
  count: number,
  ledger: Ledger,
): { writers: ClusterWriter[]; stopAll: () => Promise<void> } {
  const writers = Array.from({ length: count }, (_, i) => new ClusterWriter(cluster, roomId, i, ledger));
  const loops = writers.map((writer) => writer.run());
  return {
    writers,
    async stopAll() {
      for (const writer of writers) writer.stop();
      await Promise.all(loops);
    },
  };
}

/** The room as a fresh reader on `node` sees it (reconnect from 0). */
export async function roomOn(cluster: TestCluster, nodeIndex: number, roomId: string): Promise<Patch> {
  const node = cluster.pick(nodeIndex);
  const reader = await node.server.connect(roomId, `reader-${Math.random().toString(36).slice(2)}`);
  const { reply } = await reader.sync(0);
  reader.close();
  return documentOf(reply);
}
