/** What the cluster layer reports, for metrics (the server wires it to Prometheus). */
export interface ClusterObserver {
  /** Envelopes published or received on links, with how many messages they held. */
  linkEnvelope(direction: 'in' | 'out', messages: number): void;
  /** A link lost messages (sequence gap, failed publish, restarted peer). */
  linkBroken(why: string): void;
  /** A client frame forwarded to an owner, or an owner's frame relayed to a client. */
  forwardedFrame(direction: 'to-owner' | 'from-owner', count: number): void;
  /** A renewal of membership and leases failed (Redis unreachable). */
  renewFailed(): void;
  /** A room was given up: its lease was lost or ran out, or a newer owner fenced it. */
  roomLost(why: string): void;
}
