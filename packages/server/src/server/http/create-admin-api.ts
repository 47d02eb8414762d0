import type { RoomManager } from '../../manager/room-manager.js';
import type { StorageBackend } from '../../storage/storage-backend.js';
import type { ServerConfig } from '../config/server-config.js';
import type { ServerLogger } from '../observability/create-logger.js';
import type { ServerMetrics } from '../observability/server-metrics.js';
import { AdminApi, type AdminClusterView } from './admin-api.js';
import { adminHistoryOptions } from './admin-history-api.js';

/** What {@link createAdminApi} wires the admin API to. */
interface AdminDeps {
  manager: RoomManager;
  storage: StorageBackend;
  logger: ServerLogger;
  metrics: ServerMetrics;
  /** The cluster router in cluster mode: room routes are then answered by the room's owner. */
  cluster: AdminClusterView | undefined;
  /** Told of each request the admin throttle refuses. */
  onThrottled: (address: string) => void;
}

/** The admin API when `--admin-secret` is set, else undefined (every `/admin` path is then 404). */
export function createAdminApi(config: ServerConfig, deps: AdminDeps): AdminApi | undefined {
  if (!config.adminSecret) return undefined;
  return new AdminApi(config.adminSecret, deps.manager, deps.storage, deps.logger, {
    failuresPerMinute: config.adminFailuresPerMinute,
    onThrottled: deps.onThrottled,
    history: adminHistoryOptions(config, (limit) => deps.metrics.limitHits.inc({ limit })),
    cluster: deps.cluster,
  });
}
