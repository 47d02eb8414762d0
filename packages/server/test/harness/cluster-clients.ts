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

/** The keys where a client's document differs from the room's. */
function differingKeys(seen: Patch, expected: Patch): string[] {
  const keys = new Set([...Object.keys(seen), ...Object.keys(expected)]);
  return [...keys].filter((key) => !isDeepStrictEqual(seen[key], expected[key]));
}

/** The first differing keys with both values, for a failure message. */
function describeDifference(differing: readonly string[], seen: Patch, expected: Patch): string {
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
  /** The values each client wrote to the shared key. */
  private readonly sharedValues = new Map<string, Set<number>>();

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
      const values = this.sharedValues.get(peer.clientId) ?? new Set<number>();
      values.add(this.value);
      this.sharedValues.set(peer.clientId, values);
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

  /**
   * Waits until every client is idle at the room clock and holds exactly the
   * room's document. Clients of a kind in `ownLossTolerated` may differ by
   * their own writes that never reached the room (a documented client
   * behaviour, docs/compatibility.md): a key of their own the room lacks, or
   * the shared key at a value they wrote themselves. Those are returned, as
   * `clientId: key`, for the test to report; any other difference fails.
   */
  async converged(ownLossTolerated: readonly ClientKind[] = []): Promise<{ doc: Patch; ownLost: string[] }> {
    let last = '';
    return waitUntil(
      'app clients converged',
      async () => {
        for (const peer of this.peers) peer.tick();
        const { doc, clock } = await this.room().catch(() => ({ doc: {}, clock: -1 }));
        const expected = live(plain(doc));
        const ownLost: string[] = [];
        const reasons = this.peers.map((peer) => {
          const busy = peer.busy(clock);
          if (busy) return `${peer.clientId}: ${busy}`;
          const seen = live(plain(peer.document()));
          const tolerated = ownLossTolerated.some((kind) => peer.clientId.startsWith(`${kind}-`));
          const differing = differingKeys(seen, expected).filter((key) => {
            if (!tolerated || !this.ownLostWrite(peer.clientId, key, seen, expected)) return true;
            ownLost.push(`${peer.clientId}: ${key}`);
            return false;
          });
          return differing.length === 0
            ? null
            : `${peer.clientId}: differs (${describeDifference(differing, seen, expected)})`;
        });
        last = reasons.filter((reason) => reason !== null).join('; ');
        return last === '' ? { doc, ownLost } : undefined;
      },
      CONVERGE_MS,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}: ${last}`);
    });
  }

  /** True when `key` differs only by a write `clientId` made itself that the room never got. */
  private ownLostWrite(clientId: string, key: string, seen: Patch, expected: Patch): boolean {
    if (key.startsWith(`${clientId}-`)) return expected[key] === undefined;
    if (key !== 'shared') return false;
    const value = seen.shared?.v;
    return typeof value === 'number' && (this.sharedValues.get(clientId)?.has(value) ?? false);
  }

  /** Closes every client and restores the globals the published adapter needed. */
  close(): void {
    for (const peer of this.peers) peer.close();
    this.env.restore();
  }
}
