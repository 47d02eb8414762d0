/** What the cluster layer reports, for metrics (the server wires it to Prometheus). */
export interface ClusterObserver {
  /** Envelopes published or received on links, with how many messages they held. */
  linkEnvelope(direction: 'in' | 'out', messages: number): void;
  /** A link lost messages (sequence gap, failed publish, restarted peer). */
  linkBroken(why: string): void;
  /** `lost` envelopes from another node never arrived: a sequence gap seen here (SPEC K5). */
  linkGap(lost: number): void;
  /** A forwarded session's owner did not answer its `open` in time; the client was closed with 1012. */
  openTimedOut(): void;
  /** A client frame forwarded to an owner, or an owner's frame relayed to a client. */
  forwardedFrame(direction: 'to-owner' | 'from-owner', count: number): void;
  /** A renewal of membership and leases failed (Redis unreachable). */
  renewFailed(): void;
  /** A room was given up: its lease was lost or ran out, or a newer owner fenced it. */
  roomLost(why: string): void;
}
