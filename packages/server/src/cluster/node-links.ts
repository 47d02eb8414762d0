import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './cluster-keys.js';
import type { LinkDropHook } from './link-drop-hook.js';
import { type LinkEnvelope, type LinkMessage, parseEnvelope } from './link-messages.js';

/**
 * Why a link lost messages: a sequence gap seen here, a gap the peer saw in
 * what this node sent (`reset`), a publish that failed or reached nobody, or a
 * peer process that restarted.
 */
export type LinkBreak = 'gap' | 'reset' | 'publish-failed' | 'restarted';

/** What {@link NodeLinks} tells its owner. */
export interface LinkHandlers {
  /** A message from `from`, in the order `from` sent it. */
  message(from: string, message: LinkMessage): void;
  /**
   * Messages between this node and `node` may have been lost: every session
   * relayed over that link must be closed so its client reconnects (SPEC K5).
   */
  broken(node: string, why: LinkBreak): void;
  /** Counts envelopes, for metrics. */
  envelope?(direction: 'in' | 'out', messages: number): void;
  /** `lost` envelopes from `node` never arrived (a sequence gap), for metrics. */
  gap?(node: string, lost: number): void;
  /** The nodes this node relays sessions with now: they get keep-alives while idle. */
  peers?(): Iterable<string>;
  /** The test hook lost `message` on its way to `node` (see {@link LinkDropHook}). */
  dropped?(node: string, message: LinkMessage): void;
}

/** Options of {@link NodeLinks}. */
export interface NodeLinksOptions {
  /**
   * How often idle links get a keep-alive envelope, in ms (0: never). A lost
   * envelope is noticed when the next one arrives, so this bounds how long a
   * loss can go unnoticed when traffic stops (SPEC K5).
   */
  keepAliveMs?: number;
  /** TEST HOOK: messages to lose on purpose. */
  dropHook?: LinkDropHook;
}

/**
 * Links between nodes over Redis pub/sub: one channel per node. Messages to a
 * node are gathered for one event-loop iteration and published as one envelope
 * with the next sequence number of that link, so a frame broadcast to many
 * sessions of one node travels once with their ids (fan-out happens on the
 * receiving node). A receiver seeing a sequence number skip, or a sender whose
 * publish failed or reached nobody, reports the link broken: pub/sub drops
 * messages while a subscriber reconnects, and that must never go unnoticed.
 * A receiver that saw a gap also tells the sender (`reset`), so both ends close
 * what they relay over the link; idle links carry keep-alives so that the last
 * envelope before a pause cannot be lost unnoticed.
 */
export class NodeLinks {
  private readonly incarnation = randomUUID();
  private readonly sendSeq = new Map<string, number>();
  private readonly received = new Map<string, { incarnation: string; seq: number }>();
  /** `performance.now()` of the last envelope from each node. */
  private readonly lastHeard = new Map<string, number>();
  private readonly pending = new Map<string, LinkMessage[]>();
  /** Nodes that got any envelope since the last keep-alive round. */
  private readonly sentAny = new Set<string>();
  /** Nodes that got messages since the last keep-alive round: they get one trailing keep-alive. */
  private sentMessages = new Set<string>();
  private trailing = new Set<string>();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly handlers: LinkHandlers,
    private readonly options: NodeLinksOptions = {},
  ) {}

  /** Subscribes to this node's channel and starts the keep-alives. */
  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, text: string) => this.receive(text));
    await this.subscriber.subscribe(this.keys.channel(this.nodeId));
    const every = this.options.keepAliveMs ?? 0;
    if (every > 0) {
      this.keepAliveTimer = setInterval(() => this.keepAlive(), every);
      this.keepAliveTimer.unref();
    }
  }

  /** Queues `message` for `node`; it leaves at the end of this event-loop iteration. */
  send(node: string, message: LinkMessage): void {
    this.queue(node).push(message);
  }

  /** Queues one outgoing frame for session `sid` on `node`, sharing it with the sessions queued just before. */
  sendOut(node: string, sid: string, data: string): void {
    const queue = this.queue(node);
    const last = queue[queue.length - 1];
    if (last?.t === 'out' && last.data === data) last.sids.push(sid);
    else queue.push({ t: 'out', sids: [sid], data });
  }

  /** Publishes everything queued now; resolves when Redis took it. */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    const batches = Array.from(this.pending);
    this.pending.clear();
    await Promise.all(batches.map(([node, messages]) => this.publish(node, messages)));
  }

  /**
   * Sends an empty envelope to every peer that got nothing since the last
   * round: the nodes it relays sessions with, and the nodes that got messages
   * in the round before (a lost last message, such as a `gone`, shows as a gap
   * when the keep-alive after it arrives). Called by the timer; public for tests.
   */
  keepAlive(): void {
    if (this.closed) return;
    const targets = new Set([...(this.handlers.peers?.() ?? []), ...this.trailing]);
    this.trailing = this.sentMessages;
    this.sentMessages = new Set();
    for (const node of targets) {
      if (node !== this.nodeId && !this.sentAny.has(node)) void this.publish(node, []);
    }
    this.sentAny.clear();
  }

  /** True when an envelope from `node` arrived within the last `withinMs`. */
  heardFrom(node: string, withinMs: number): boolean {
    const at = this.lastHeard.get(node);
    return at !== undefined && performance.now() - at <= withinMs;
  }

  /** Stops receiving and sending keep-alives. */
  close(): void {
    this.closed = true;
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
  }

  private queue(node: string): LinkMessage[] {
    let queue = this.pending.get(node);
    if (!queue) {
      queue = [];
      this.pending.set(node, queue);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flush().catch(() => {});
      });
    }
    return queue;
  }

  private async publish(node: string, messages: LinkMessage[]): Promise<void> {
    const hook = this.options.dropHook;
    if (!hook) return this.publishEnvelope(node, messages, false);
    // Sequence numbers are taken in order before the first await of each part.
    await Promise.all(
      hook.split(messages).map((part) => this.publishEnvelope(node, part.messages, part.lost)),
    );
  }

  private async publishEnvelope(node: string, messages: LinkMessage[], lost: boolean): Promise<void> {
    const seq = (this.sendSeq.get(node) ?? 0) + 1;
    this.sendSeq.set(node, seq);
    this.sentAny.add(node);
    if (messages.length > 0) this.sentMessages.add(node);
    if (lost) {
      for (const message of messages) this.handlers.dropped?.(node, message);
      return;
    }
    const envelope: LinkEnvelope = { from: this.nodeId, incarnation: this.incarnation, seq, messages };
    this.handlers.envelope?.('out', messages.length);
    let receivers = 0;
    try {
      receivers = await this.publisher.publish(this.keys.channel(node), JSON.stringify(envelope));
    } catch {
      receivers = 0;
    }
    if (receivers === 0) this.handlers.broken(node, 'publish-failed');
  }

  private receive(text: string): void {
    if (this.closed) return;
    const envelope = parseEnvelope(text);
    if (!envelope) return;
    const { from, incarnation, seq } = envelope;
    this.lastHeard.set(from, performance.now());
    const last = this.received.get(from);
    this.received.set(from, { incarnation, seq });
    if (last && last.incarnation !== incarnation) {
      this.handlers.broken(from, 'restarted');
      // The new process's first envelopes may be lost too (an `open` it sent).
      if (seq !== 1) this.sawGap(from, seq - 1);
    } else {
      // A first envelope after 1 means the first ones were lost (or this node is a
      // new process under a known id: closing what the link relayed is right then too).
      const expected = last ? last.seq + 1 : 1;
      if (seq !== expected) this.sawGap(from, seq - expected);
    }
    this.handlers.envelope?.('in', envelope.messages.length);
    for (const message of envelope.messages) {
      if (message.t === 'reset') this.handlers.broken(from, 'reset');
      else this.handlers.message(from, message);
    }
  }

  /** Envelopes from `from` were lost: tell it first (its side closes too), then close this side. */
  private sawGap(from: string, lost: number): void {
    this.handlers.gap?.(from, Math.max(1, lost));
    this.send(from, { t: 'reset' });
    this.handlers.broken(from, 'gap');
  }
}
