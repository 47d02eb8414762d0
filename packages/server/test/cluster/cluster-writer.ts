/**
 * A writer for failover tests: writes one key at a time to a room through any
 * live node, and when its socket is closed (1012 on hand-over, a dead node)
 * reconnects to another node and writes the key again, as a client would (D7).
 * Records every acked key with its clock.
 */
import type { WireClient } from '../harness/server-process.js';
import type { TestNode } from './core-cluster.js';

export class ClusterWriter {
  /** Acked keys and the clock each was acked under. */
  readonly acked = new Map<string, number>();
  /** Close codes seen, in order. */
  readonly closes: number[] = [];
  private client: WireClient | undefined;
  private turn = 0;

  constructor(
    private readonly nodes: () => TestNode[],
    private readonly roomId: string,
    readonly clientId: string,
  ) {}

  /** Writes `key` until it is acked (reconnecting as needed); gives up after `attempts`. */
  async write(key: string, attempts = 60): Promise<number> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        const client = await this.connected();
        const ack = await client.write([{ [key]: { _exists: true, by: this.clientId } }]);
        this.acked.set(key, ack.timestamp as number);
        return ack.timestamp as number;
      } catch {
        if (this.client?.closeInfo) this.closes.push(this.client.closeInfo.code);
        this.client?.ws.terminate();
        this.client = undefined;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`${this.clientId}: ${key} was never acked`);
  }

  /** Closes the socket. */
  close(): void {
    this.client?.ws.terminate();
  }

  private async connected(): Promise<WireClient> {
    if (this.client && this.client.closeInfo === undefined) return this.client;
    const nodes = this.nodes();
    const node = nodes[this.turn++ % nodes.length] as TestNode;
    const client = await node.server.connect(this.roomId, this.clientId);
    this.client = client;
    await client.sync(0);
    return client;
  }
}
