import { Redis } from 'ioredis';
import type { ClusterKeys } from './cluster-keys.js';
import { ACQUIRE_SCRIPT, HEARTBEAT_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './redis-scripts.js';

/** The scripted commands, as {@link Redis.defineCommand} adds them. */
interface ScriptCommands {
  csHeartbeat(key: string, nodeId: string, leaseMs: number): Promise<string[]>;
  csAcquire(
    lease: string,
    epoch: string,
    nodeId: string,
    leaseMs: number,
  ): Promise<[number, string, string, number]>;
  csRenew(...args: Array<string | number>): Promise<number[]>;
  csRelease(lease: string, nodeId: string, epoch: number): Promise<number>;
}

/** The outcome of a lease attempt. */
export interface LeaseAttempt {
  /** True when this node holds the lease afterwards. */
  held: boolean;
  /** The node holding the lease. */
  holder: string;
  /** The lease's epoch in Redis. */
  epoch: number;
  /** True when the lease was free and this attempt took it (a new epoch), false when it extended this node's. */
  taken: boolean;
}

/** A lease as listed across the cluster. */
export interface LeaseEntry {
  roomId: string;
  node: string;
  epoch: number;
}

/**
 * A new ioredis connection for the cluster. The offline queue is off and each
 * command is tried once: while Redis is down a command fails at once instead of
 * waiting to be sent later, so a node never acts on a renewal that was queued
 * while its lease ran out (SPEC K6), and a command unanswered for a third of
 * the lease fails. The client reconnects by itself.
 */
export function createRedis(url: string, name: string, leaseMs: number): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A Redis that stopped answering (paused, partitioned) fails commands instead of
    // stalling renewals: the node must notice its leases running out (SPEC K6).
    commandTimeout: Math.max(100, Math.floor(leaseMs / 3)),
    connectionName: name,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
  });
  // Errors surface as failed commands and readiness; an 'error' event must not crash the process.
  redis.on('error', () => {});
  return redis;
}

/**
 * Membership and ownership commands over one Redis connection: every change
 * is one atomic Lua script (see redis-scripts.ts).
 */
export class ClusterRedis {
  private readonly commands: ScriptCommands;

  constructor(
    readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly leaseMs: number,
  ) {
    redis.defineCommand('csHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_SCRIPT });
    redis.defineCommand('csAcquire', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
    redis.defineCommand('csRenew', { lua: RENEW_SCRIPT });
    redis.defineCommand('csRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.commands = redis as unknown as ScriptCommands;
  }

  /** True while the connection is up. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Renews this node's membership; resolves with every live member. */
  heartbeat(): Promise<string[]> {
    return this.commands.csHeartbeat(this.keys.members, this.nodeId, this.leaseMs);
  }

  /** Leaves the membership at once (graceful stop). */
  async leave(): Promise<void> {
    await this.redis.zrem(this.keys.members, this.nodeId);
  }

  /** Takes or extends the lease of `roomId`. */
  async acquire(roomId: string): Promise<LeaseAttempt> {
    const [held, holder, epoch, taken] = await this.commands.csAcquire(
      this.keys.lease(roomId),
      this.keys.epoch(roomId),
      this.nodeId,
      this.leaseMs,
    );
    return { held: held === 1, holder, epoch: Number(epoch), taken: taken === 1 };
  }

  /** The current holder of `roomId`'s lease, if any. */
  async holder(roomId: string): Promise<LeaseEntry | undefined> {
    const [node, epoch] = await this.redis.hmget(this.keys.lease(roomId), 'node', 'epoch');
    return node ? { roomId, node, epoch: Number(epoch) } : undefined;
  }

  /** Renews the given leases; resolves with the room ids still held. */
  async renew(leases: ReadonlyArray<{ roomId: string; epoch: number }>): Promise<Set<string>> {
    if (leases.length === 0) return new Set();
    const keys = leases.map((l) => this.keys.lease(l.roomId));
    const results = await this.commands.csRenew(
      keys.length,
      ...keys,
      this.nodeId,
      this.leaseMs,
      ...leases.map((l) => String(l.epoch)),
    );
    return new Set(leases.filter((_, i) => results[i] === 1).map((l) => l.roomId));
  }

  /** Releases a lease this node holds under `epoch`. */
  async release(roomId: string, epoch: number): Promise<void> {
    await this.commands.csRelease(this.keys.lease(roomId), this.nodeId, epoch);
  }

  /** Every lease in the cluster (for the admin API); at most `limit`. */
  async listLeases(limit: number): Promise<LeaseEntry[]> {
    const entries: LeaseEntry[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.leasePattern, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const [node, epoch] = await this.redis.hmget(key, 'node', 'epoch');
        if (node) entries.push({ roomId: this.keys.roomOfLease(key), node, epoch: Number(epoch) });
        if (entries.length >= limit) return entries;
      }
    } while (cursor !== '0');
    return entries;
  }
}
