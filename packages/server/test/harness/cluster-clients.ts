/**
 * Application clients in a cluster: the published `@woven-ecs/canvas-store`
 * adapter and our `canvas-store-client`, each on one node's URL, editing like
 * an app and nothing more. {@link AppClients.converged} waits until every one
 * of them is idle, caught up with the room clock and shows exactly the room's
 * document as a fresh reader on a live node sees it.
 */
import { isDeepStrictEqual } from 'node:util';
import { type ClientEnvironment, installClientEnvironment, plain } from './client-harness.js';
import type { TestCluster } from './cluster-nodes.js';
import { type ClientKind, createPeer, type Peer } from './convergence/peers.js';
import { documentOf, type Patch, waitUntil } from './server-process.js';

/** Generous bound for convergence after a failure (reconnects back off). */
const CONVERGE_MS = 60_000;

/** Live keys only, without the `_exists` marker: what an app shows. */
function live(doc: Patch): Patch {
  const out: Patch = {};
  for (const [key, component] of Object.entries(doc)) {
    const { _exists, ...fields } = component;
    if (_exists !== false) out[key] = fields;
  }
  return out;
}

/** The keys where a client's document differs from the room's, for a failure message. */
function difference(seen: Patch, expected: Patch): string {
  const keys = new Set([...Object.keys(seen), ...Object.keys(expected)]);
  const differing = [...keys].filter((key) => !isDeepStrictEqual(seen[key], expected[key]));
  return differing
    .slice(0, 5)
    .map((key) => `${key}: client ${JSON.stringify(seen[key])}, room ${JSON.stringify(expected[key])}`)
    .concat(differing.length > 5 ? [`${differing.length - 5} more`] : [])
    .join('; ');
}

export class AppClients {
  readonly peers: Peer[] = [];
  private readonly env: ClientEnvironment = installClientEnvironment();
  private value = 0;

  constructor(
    private readonly cluster: TestCluster,
    readonly roomId: string,
  ) {}

  /** Adds a client of `kind` on `url` (a node's, or the cluster's proxy) and waits until it is synced. */
  async add(kind: ClientKind, url: string): Promise<Peer> {
    const peer = createPeer(kind, `${kind}-${this.peers.length}`, this.roomId, url, this.env);
    this.peers.push(peer);
    await peer.start();
    await waitUntil(`${peer.clientId} synced`, () => peer.ready());
    return peer;
  }

  /** Each client writes one key of its own (and moves a shared one), like a user drawing. */
  editAll(): void {
    for (const peer of this.peers) {
      peer.tick();
      this.value++;
      peer.touch(`${peer.clientId}-${this.value}`, { v: this.value }, this.value);
      peer.touch('shared', { v: this.value }, this.value);
    }
  }

  /** The room and its clock as a fresh reader on a live node sees them. */
  async room(): Promise<{ doc: Patch; clock: number }> {
    const node = this.cluster.pick(0);
    const reader = await node.server.connect(this.roomId, `reader-${Math.random().toString(36).slice(2)}`);
    const { reply, synced } = await reader.sync(0);
    reader.close();
    return { doc: documentOf(reply), clock: synced.timestamp as number };
  }

  /** Waits until every client is idle at the room clock and holds exactly the room's document. */
  async converged(): Promise<Patch> {
    let last = '';
    return waitUntil(
      'app clients converged',
      async () => {
        for (const peer of this.peers) peer.tick();
        const { doc, clock } = await this.room().catch(() => ({ doc: {}, clock: -1 }));
        const expected = live(plain(doc));
        const reasons = this.peers.map((peer) => {
          const busy = peer.busy(clock);
          if (busy) return `${peer.clientId}: ${busy}`;
          const seen = live(plain(peer.document()));
          return isDeepStrictEqual(seen, expected)
            ? null
            : `${peer.clientId}: differs (${difference(seen, expected)})`;
        });
        last = reasons.filter((reason) => reason !== null).join('; ');
        return last === '' ? doc : undefined;
      },
      CONVERGE_MS,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}: ${last}`);
    });
  }

  /** Closes every client and restores the globals the published adapter needed. */
  close(): void {
    for (const peer of this.peers) peer.close();
    this.env.restore();
  }
}
