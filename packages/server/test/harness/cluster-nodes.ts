/**
 * N server processes in cluster mode on loopback ports, sharing one private
 * Redis ({@link PrivateRedis}) and one fresh PostgreSQL database
 * ({@link createRunDatabase}), with the signals the failure tests send:
 * SIGKILL (node loss, K4), SIGSTOP/SIGCONT (a paused owner, K2) and SIGTERM
 * (rolling restart, K7). Each node is an ordinary {@link ServerProcess}.
 */
import type { Server } from 'node:http';
import { startRoundRobinProxy } from '../../scripts/cluster/round-robin-proxy.js';
import { createRunDatabase, type RunDatabase } from './cluster-postgres.js';
import { PrivateRedis } from './cluster-redis.js';
import { type Exit, ServerProcess, waitUntil } from './server-process.js';

/** Admin secret of every test node (the admin API tells which node owns a room). */
const ADMIN_SECRET = 'cluster-test-admin-secret';

/** Lease the failure tests use: short so failovers are quick, long enough for a loaded 2-core machine. */
const TEST_LEASE_MS = 1_500;

export interface ClusterOptions {
  /** Number of nodes to start (default 3). */
  nodes?: number;
  /** `--cluster-lease-ms` of every node (default {@link TEST_LEASE_MS}). */
  leaseMs?: number;
  /** Flags every node gets after the cluster flags. */
  args?: string[];
  /** Environment every node gets (for example a link test hook). */
  env?: Record<string, string>;
  /** Label of the PostgreSQL database (lowercase, part of its name). */
  label?: string;
  /**
   * Rewrites the Redis and PostgreSQL URLs a node gets, for example to route
   * them through a FaultProxy (test/harness/fault-proxy.ts; default: the cluster's own URLs). The
   * cluster's Redis namespace derives from the PostgreSQL host, port and
   * database, so nodes of one cluster must share one PostgreSQL URL.
   */
  urls?: (nodeId: string, urls: NodeUrls) => NodeUrls;
}

/** The Redis and PostgreSQL URLs of one node. */
export interface NodeUrls {
  redisUrl: string;
  postgresUrl: string;
}

/** One node process of a {@link TestCluster}. */
export class ClusterNode {
  /** False once the process exited (after kill/terminate or a crash). */
  alive = true;
  /** True between {@link pause} and {@link resume}. */
  paused = false;

  constructor(
    readonly id: string,
    readonly server: ServerProcess,
  ) {
    void server.exited.then(() => {
      this.alive = false;
    });
  }

  get port(): number {
    return this.server.port;
  }

  /** The WebSocket URL of a room on this node (what a client library takes). */
  wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** SIGKILL: the node vanishes without a goodbye. */
  kill(): Promise<Exit> {
    if (this.paused) this.server.child.kill('SIGCONT');
    return this.server.stop('SIGKILL');
  }

  /** SIGTERM: a graceful stop (hands its rooms over, K7). */
  terminate(): Promise<Exit> {
    return this.server.stop('SIGTERM');
  }

  /** SIGSTOP: the process freezes (its timers, its lease renewals, its sockets). */
  pause(): void {
    this.server.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT: the process runs on from where it froze. */
  resume(): void {
    this.server.child.kill('SIGCONT');
    this.paused = false;
  }
}

/** A cluster of nodes over a private Redis and a fresh database. */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private started = 0;
  private proxy: Server | undefined;

  private constructor(
    readonly redis: PrivateRedis,
    readonly db: RunDatabase,
    readonly options: Required<Omit<ClusterOptions, 'label' | 'urls'>> & Pick<ClusterOptions, 'urls'>,
  ) {}

  /** Starts Redis, creates the database and starts `nodes` nodes (one after the other: they share 2 cores). */
  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const redis = await PrivateRedis.start();
    const db = await createRunDatabase(options.label ?? 'cluster');
    const cluster = new TestCluster(redis, db, {
      nodes: options.nodes ?? 3,
      leaseMs: options.leaseMs ?? TEST_LEASE_MS,
      args: options.args ?? [],
      env: options.env ?? {},
      urls: options.urls,
    });
    for (let i = 0; i < cluster.options.nodes; i++) await cluster.addNode();
    return cluster;
  }

  /** The flags of a cluster node with id `nodeId`. */
  nodeArgs(nodeId: string): string[] {
    const own = { redisUrl: this.redis.url, postgresUrl: this.db.url };
    const urls = this.options.urls?.(nodeId, own) ?? own;
    return [
      '--storage',
      'postgres',
      '--postgres-url',
      urls.postgresUrl,
      '--redis-url',
      urls.redisUrl,
      '--node-id',
      nodeId,
      '--cluster-lease-ms',
      String(this.options.leaseMs),
      '--admin-secret',
      ADMIN_SECRET,
      '--log-level',
      'info',
      // The writers keep one write in flight each: on an idle machine they pass the default
      // 100 frames/s and get 4429, which is not what these failure tests look at.
      '--frames-per-second',
      '100000',
      '--bytes-per-second',
      '1000000000',
      ...this.options.args,
    ];
  }

  /** Starts one more node (ids n1, n2, ...; a restarted node gets a new id and port). */
  async addNode(env: Record<string, string> = {}): Promise<ClusterNode> {
    const id = `n${++this.started}`;
    const server = await ServerProcess.start({
      args: this.nodeArgs(id),
      env: { ...this.options.env, ...env },
    });
    const node = new ClusterNode(id, server);
    this.nodes.push(node);
    return node;
  }

  /** The nodes whose process still runs and is not paused. */
  live(): ClusterNode[] {
    return this.nodes.filter((node) => node.alive && !node.paused);
  }

  /** The live node at index `i` of {@link live} (wrapping), for spreading clients. */
  pick(i: number): ClusterNode {
    const live = this.live();
    const node = live[i % live.length];
    if (!node) throw new Error('no live node');
    return node;
  }

  /**
   * Waits until every live node answers /readyz with 200 (a member, Redis
   * reachable) and lists every live node as a member. A node learns of members
   * that joined after it only at its next renewal; a room opened before then
   * would move to the newcomer it prefers (1012, SPEC K7) in the middle of a test.
   */
  async ready(): Promise<void> {
    const ids = this.live().map((node) => node.id);
    for (const node of this.live()) {
      await waitUntil(`/readyz of ${node.id} listing ${ids.join(', ')}`, async () => {
        const reply = await node.server.get('/readyz').catch(() => undefined);
        if (reply?.status !== 200) return false;
        const view = (JSON.parse(reply.text) as { cluster?: { liveNodes?: string[] } }).cluster;
        return ids.every((id) => view?.liveNodes?.includes(id));
      });
    }
  }

  /** GETs an admin path of `node` and parses the JSON (undefined when not 200). */
  async admin(node: ClusterNode, path: string): Promise<Record<string, unknown> | undefined> {
    const response = await fetch(`http://127.0.0.1:${node.port}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    }).catch(() => undefined);
    if (response?.status !== 200) return undefined;
    return (await response.json()) as Record<string, unknown>;
  }

  /**
   * The live node that owns `roomId`: every live node's `GET /admin/cluster`
   * lists the room leases (`rooms: [{ roomId, node, epoch }]`); waits until they
   * all name the same live node (a room gets an owner with its first session).
   */
  async ownerOf(roomId: string): Promise<ClusterNode> {
    return waitUntil(`one owner of ${roomId}`, async () => {
      const answers = new Set<unknown>();
      for (const node of this.live()) {
        const view = await this.admin(node, '/admin/cluster');
        const leases = (view?.rooms ?? []) as Array<{ roomId: string; node: string }>;
        answers.add(leases.find((lease) => lease.roomId === roomId)?.node);
      }
      if (answers.size !== 1) return undefined;
      const [owner] = answers;
      return this.live().find((node) => node.id === owner);
    });
  }

  /** A live node that does not own `roomId`. */
  async nonOwnerOf(roomId: string): Promise<ClusterNode> {
    const owner = await this.ownerOf(roomId);
    const other = this.live().find((node) => node !== owner);
    if (!other) throw new Error('every live node is the owner: start more nodes');
    return other;
  }

  /**
   * `ws://` URL of a round-robin proxy over the live, unpaused nodes (started on
   * first use): app clients on it reconnect to whatever node is up, like behind
   * a load balancer whose health check dropped the dead node.
   */
  async proxyUrl(): Promise<string> {
    if (!this.proxy) {
      this.proxy = await startRoundRobinProxy(
        () => this.live().map((node) => ({ host: '127.0.0.1', port: node.port })),
        0,
      );
    }
    const address = this.proxy.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return `ws://127.0.0.1:${port}/`;
  }

  /**
   * Which of `keys` PostgreSQL holds for `roomId` (the default table prefix),
   * and the room's stored clock and epoch: tells a write that never became
   * durable from one a node failed to serve, in failure messages.
   */
  async stored(roomId: string, keys: readonly string[]): Promise<string> {
    if (keys.length === 0) return 'nothing to look up';
    const rows = await this.db.query<{ key: string }>(
      'SELECT key FROM canvas_store_components WHERE room_id = $1 AND key = ANY($2)',
      [roomId, [...keys]],
    );
    const room = await this.db.query<{ clock: string }>(
      'SELECT clock FROM canvas_store_rooms WHERE room_id = $1',
      [roomId],
    );
    const epoch = await this.db
      .query<{ epoch: string }>('SELECT epoch FROM canvas_store_room_epochs WHERE room_id = $1', [roomId])
      .catch(() => []);
    return `stored in PostgreSQL: [${rows.map((row) => row.key).join(', ')}], room clock ${room[0]?.clock}, epoch ${epoch[0]?.epoch}`;
  }

  /** Kills every node and Redis, then drops the database. Call in afterAll. */
  async stop(): Promise<void> {
    this.proxy?.closeAllConnections();
    this.proxy?.close();
    await Promise.all(this.nodes.filter((node) => node.alive).map((node) => node.kill()));
    await this.redis.kill();
    await this.db.drop();
  }
}
