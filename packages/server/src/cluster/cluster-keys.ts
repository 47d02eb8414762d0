import { createHash } from 'node:crypto';

/**
 * The Redis key and channel names of one cluster. A cluster is the set of nodes
 * sharing one PostgreSQL database, so the namespace is derived from that
 * database's host, port and name: two clusters on one Redis never meet, and
 * nodes of one cluster agree without another option to keep in sync.
 */
export class ClusterKeys {
  readonly namespace: string;

  constructor(postgresUrl: string) {
    const url = new URL(postgresUrl);
    const identity = `${url.hostname}:${url.port || '5432'}${url.pathname}`;
    const digest = createHash('sha256').update(identity).digest('hex').slice(0, 12);
    this.namespace = `canvas-store:${digest}:`;
  }

  /** The sorted set of live members, scored by their expiry. */
  get members(): string {
    return `${this.namespace}members`;
  }

  /** A room's lease: a hash of the holding node and its epoch, expiring unless renewed. */
  lease(roomId: string): string {
    return `${this.namespace}lease:${roomId}`;
  }

  /** A room's epoch counter: only grows. */
  epoch(roomId: string): string {
    return `${this.namespace}epoch:${roomId}`;
  }

  /** The pattern matching every lease, for listing. */
  get leasePattern(): string {
    return `${this.namespace}lease:*`;
  }

  /** The room id of a lease key. */
  roomOfLease(key: string): string {
    return key.slice(`${this.namespace}lease:`.length);
  }

  /** The pub/sub channel a node listens on. */
  channel(nodeId: string): string {
    return `${this.namespace}node:${nodeId}`;
  }
}
