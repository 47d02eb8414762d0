import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ClusterRouter } from '../cluster/cluster-router.js';
import { type AcceptConnectionOptions, acceptConnection } from '../connection/accept-connection.js';
import type { RoomManager } from '../manager/room-manager.js';
import type { Room } from '../room/room.js';
import type { Authorize } from './auth/create-authorize.js';
import type { ServerConfig } from './config/server-config.js';
import { clusterMetrics } from './observability/cluster-metrics.js';
import type { ServerLogger } from './observability/create-logger.js';
import type { ServerMetrics } from './observability/server-metrics.js';

/** A client socket's session as the server sees it, served here or (cluster mode) forwarded. */
export interface SocketConnection {
  readonly ready: Promise<{ room: Room | undefined; roomId: string; sessionId: string }>;
  onMessage(data: string): void;
  onClose(): void;
  onError(): void;
}

/** A session served by this process's own room (single-node mode). */
export function localConnection(
  options: AcceptConnectionOptions<IncomingMessage, Record<string, unknown>>,
): SocketConnection {
  const connection = acceptConnection(options);
  return {
    ready: connection.ready.then(({ room, sessionId }) => ({ room, roomId: room.roomId ?? '', sessionId })),
    onMessage: (data) => connection.onMessage(data),
    onClose: () => connection.onClose(),
    onError: () => connection.onError(),
  };
}

/** What {@link createClusterRouter} wires the router to. */
interface ClusterDeps {
  manager: RoomManager;
  logger: ServerLogger;
  metrics: ServerMetrics;
  authorize: Authorize;
}

/** The cluster router in cluster mode (`--redis-url`), else undefined: single-node mode is untouched (SPEC K8). */
export function createClusterRouter(config: ServerConfig, deps: ClusterDeps): ClusterRouter | undefined {
  if (config.redisUrl === undefined || config.postgresUrl === undefined) return undefined;
  const cluster: ClusterRouter = new ClusterRouter({
    redisUrl: config.redisUrl,
    postgresUrl: config.postgresUrl,
    nodeId: config.nodeId ?? `node-${randomUUID().slice(0, 8)}`,
    leaseMs: config.clusterLeaseMs,
    manager: deps.manager,
    logger: deps.logger.child({ component: 'cluster' }),
    // Refreshes carry no request (SPEC C5).
    authorizeRefresh: (info) => deps.authorize({ ...info, request: undefined }),
    observer: clusterMetrics(deps.metrics.registry, () => cluster.ownedRoomCount),
    maxPendingBytes: config.maxFrameBytes * 4,
  });
  return cluster;
}
