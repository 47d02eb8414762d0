import type { Frame, ServerProcess, WireClient } from '../server-process.js';
import { BYSTANDER_KEY, sleep } from './fuzz-run.js';

export class ClockOrder {
  private seen = 0;
  readonly problems: string[] = [];

  feed(frame: Frame): void {
    const ts = frame.timestamp;
    if (typeof ts !== 'number') return;
    const broadcast = frame.type === 'patch' && frame.clientId !== '';
    if (broadcast ? ts <= this.seen : ts < this.seen) {
      this.problems.push(`${frame.type} at ${ts} after ${this.seen}`);
    }
    this.seen = Math.max(this.seen, ts);
  }
}

/** Latest clock known per room, for reconnects that ask only for recent changes. */
export const clocks = new Map<string, number>();
export function learnClock(roomId: string, ts: unknown): void {
  if (typeof ts === 'number') clocks.set(roomId, Math.max(clocks.get(roomId) ?? 0, ts));
}

/** A client writing steadily to its own key and waiting for every ack. */
export class Bystander {
  acks = 0;
  lastValue = 0;
  lastAck = 0;
  readonly problems: string[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private readonly order = new ClockOrder();
  private next = 0;

  constructor(
    readonly client: WireClient,
    readonly roomId: string,
  ) {}

  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      this.problems.push(`bystander in ${this.roomId} stopped: ${(error as Error).message}`);
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      const value = ++this.next;
      const from = this.client.frames.length;
      const messageId = this.client.sendPatch([{ [BYSTANDER_KEY]: { _exists: true, n: value } }]);
      const ack = await this.client.waitForFrame(
        `bystander ack ${messageId} in ${this.roomId}`,
        (f) => f.type === 'ack' && f.messageId === messageId,
        from,
      );
      const ts = ack.timestamp as number;
      // Each bystander write moves the clock, so its ack must be strictly newer than the last.
      if (!(ts > this.lastAck)) this.problems.push(`ack ${messageId} at ${ts} after ${this.lastAck}`);
      this.lastAck = ts;
      this.lastValue = value;
      this.acks++;
      learnClock(this.roomId, ts);
      // Check what arrived and drop it, so the frame log stays small however long the fuzz runs.
      for (const frame of this.client.frames) {
        this.order.feed(frame);
        if (frame.type === 'error') this.problems.push(`error frame ${JSON.stringify(frame).slice(0, 200)}`);
      }
      this.client.frames.length = 0;
      await sleep(20);
    }
  }

  async stop(): Promise<string[]> {
    this.running = false;
    await this.loop;
    if (this.client.closeInfo) this.problems.push(`closed: ${JSON.stringify(this.client.closeInfo)}`);
    return [...this.problems, ...this.order.problems.map((p) => `bystander in ${this.roomId}: ${p}`)];
  }
}

/** Watches the process: alive, /healthz 200, peak RSS. */
export class Monitor {
  checks = 0;
  deaths = 0;
  peakRss = 0;
  readonly problems: string[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly server: ServerProcess) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        await this.check();
        await sleep(500);
      }
    })();
  }

  async check(): Promise<void> {
    const { child } = this.server;
    if (child.exitCode !== null || child.signalCode !== null) {
      this.problems.push(`the server exited (code ${child.exitCode}, signal ${child.signalCode})`);
      this.deaths = 1;
      return;
    }
    try {
      const { status } = await this.server.get('/healthz');
      if (status !== 200) this.problems.push(`/healthz answered ${status}`);
      this.peakRss = Math.max(this.peakRss, this.server.rssBytes());
    } catch (error) {
      this.problems.push(`/healthz failed: ${(error as Error).message}`);
    }
    this.checks++;
  }

  async stop(): Promise<string[]> {
    this.running = false;
    await this.loop;
    await this.check();
    return this.problems;
  }
}

/** What the fuzz sessions did, for the assertions and the figures. */
export interface FuzzStats {
  framesSent: number;
  bytesSent: number;
  errorFrames: number;
  acks: number;
  closes: Record<string, number>;
  kinds: Record<string, number>;
  errorCodes: Record<string, number>;
  rooms: Set<string>;
  failures: string[];
}
