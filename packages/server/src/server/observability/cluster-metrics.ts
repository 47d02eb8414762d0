import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterObserver } from '../../cluster/cluster-observer.js';

/**
 * The cluster's Prometheus metrics (cluster mode only), registered next to the
 * server's: owned rooms, link traffic, gaps and breaks, open timeouts, forwarded frames, lease
 * renewal failures and rooms given up.
 */
export function clusterMetrics(registry: Registry, ownedRooms: () => number): ClusterObserver {
  const registers = [registry];
  new Gauge({
    name: 'canvas_cluster_owned_rooms',
    help: 'Rooms whose lease this node holds',
    registers,
    collect() {
      this.set(ownedRooms());
    },
  });
  const envelopes = new Counter({
    name: 'canvas_cluster_link_envelopes_total',
    help: 'Envelopes published to or received from other nodes',
    labelNames: ['direction'],
    registers,
  });
  const messages = new Counter({
    name: 'canvas_cluster_link_messages_total',
    help: 'Link messages sent to or received from other nodes',
    labelNames: ['direction'],
    registers,
  });
  const breaks = new Counter({
    name: 'canvas_cluster_link_breaks_total',
    help: 'Links that lost messages (sequence gap, failed publish, restarted or dead peer); their sessions were closed with 1012',
    labelNames: ['why'],
    registers,
  });
  const gaps = new Counter({
    name: 'canvas_cluster_link_gaps_total',
    help: 'Envelopes from other nodes that never arrived (sequence gaps seen by this node); the links broke',
    registers,
  });
  const openTimeouts = new Counter({
    name: 'canvas_cluster_open_timeouts_total',
    help: 'Forwarded sessions whose owner did not answer the open in time; closed with 1012',
    registers,
  });
  const forwarded = new Counter({
    name: 'canvas_cluster_forwarded_frames_total',
    help: 'Client frames forwarded to owners, and owner frames relayed to clients (per session)',
    labelNames: ['direction'],
    registers,
  });
  const renewFailures = new Counter({
    name: 'canvas_cluster_renew_failures_total',
    help: 'Failed renewals of membership or room leases (Redis unreachable)',
    registers,
  });
  const roomsLost = new Counter({
    name: 'canvas_cluster_rooms_lost_total',
    help: 'Rooms given up without storing more: lease lost, lease not renewed in time, or fenced by a newer owner',
    registers,
  });
  return {
    linkEnvelope: (direction, count) => {
      envelopes.inc({ direction });
      messages.inc({ direction }, count);
    },
    linkBroken: (why) => breaks.inc({ why }),
    linkGap: (lost) => gaps.inc(lost),
    openTimedOut: () => openTimeouts.inc(),
    forwardedFrame: (direction, count) => forwarded.inc({ direction }, count),
    renewFailed: () => renewFailures.inc(),
    roomLost: () => roomsLost.inc(),
  };
}
