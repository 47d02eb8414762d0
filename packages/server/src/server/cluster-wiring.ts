import { randomUUID } from 'node:crypto';
import { ClusterRouter } from '../cluster/cluster-router.js';
import type { RoomManager } from '../manager/room-manager.js';
import type { Storage } from '../storage/storage.js';
import type { StorageBackend } from '../storage/storage-backend.js';
import type { Authorize } from './auth/create-authorize.js';
import type { ServerConfig } from './config/server-config.js';
import { reasonOf, StartupError } from './lifecycle/startup-error.js';
import { clusterMetrics } from './observability/cluster-metrics.js';
import type { ServerLogger } from './observability/create-logger.js';
import type { ServerMetrics } from './observability/server-metrics.js';

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

/**
 * Joins the cluster before the server listens; a node that cannot reach
 * Redis leaves nothing behind and says which flag to check.
 *
 * @throws {@link StartupError} naming `--redis-url` when joining fails.
 */
export async function joinCluster(
  cluster: ClusterRouter,
  config: ServerConfig,
  logger: ServerLogger,
): Promise<void> {
  try {
    await cluster.start();
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw new StartupError(
      `cannot join the cluster through Redis at --redis-url (CANVAS_REDIS_URL): ${reasonOf(error)}; check that Redis is running and reachable`,
      { cause: error },
    );
  }
  logger.info({ nodeId: cluster.nodeId, leaseMs: config.clusterLeaseMs }, 'cluster mode: joined the cluster');
}

/** A room's storage: fenced by the cluster's lease epoch in cluster mode (SPEC K2). */
export function roomStorageFor(
  storage: StorageBackend,
  cluster: ClusterRouter | undefined,
  roomId: string,
): Storage {
  const fenced = storage.forFencedRoom;
  if (cluster && fenced) return fenced(roomId, cluster.fenceFor(roomId));
  return storage.forRoom(roomId);
}
