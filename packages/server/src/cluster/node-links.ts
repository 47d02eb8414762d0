import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './cluster-keys.js';
import { type LinkEnvelope, type LinkMessage, parseEnvelope } from './link-messages.js';

/** Why a link lost messages. */
export type LinkBreak = 'gap' | 'publish-failed' | 'restarted';

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
}

/**
 * Links between nodes over Redis pub/sub: one channel per node. Messages to a
 * node are gathered for one event-loop iteration and published as one envelope
 * with the next sequence number of that link, so a frame broadcast to many
 * sessions of one node travels once with their ids (fan-out happens on the
 * receiving node). A receiver seeing a sequence number skip, or a sender whose
 * publish failed or reached nobody, reports the link broken: pub/sub drops
 * messages while a subscriber reconnects, and that must never go unnoticed.
 */
export class NodeLinks {
  private readonly incarnation = randomUUID();
  private readonly sendSeq = new Map<string, number>();
  private readonly received = new Map<string, { incarnation: string; seq: number }>();
  private readonly pending = new Map<string, LinkMessage[]>();
  private flushScheduled = false;
  private closed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly handlers: LinkHandlers,
  ) {}

  /** Subscribes to this node's channel. */
  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, text: string) => this.receive(text));
    await this.subscriber.subscribe(this.keys.channel(this.nodeId));
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

  /** Stops receiving. */
  close(): void {
    this.closed = true;
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
    const seq = (this.sendSeq.get(node) ?? 0) + 1;
    this.sendSeq.set(node, seq);
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
    const last = this.received.get(from);
    this.received.set(from, { incarnation, seq });
    if (last && last.incarnation !== incarnation) this.handlers.broken(from, 'restarted');
    else if (last && seq !== last.seq + 1) this.handlers.broken(from, 'gap');
    this.handlers.envelope?.('in', envelope.messages.length);
    for (const message of envelope.messages) this.handlers.message(from, message);
  }
}
