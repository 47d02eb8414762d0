/** IPC messages between the cluster benchmark and its load-generator child (cluster-load.ts). */

/** Parent → load client. */
export type ToClusterLoad =
  | {
      type: 'connect';
      /** ws://host:port of every node; client `c` of room `r` goes to node `(r + c) % urls.length`. */
      urls: string[];
      rooms: number;
      clientsPerRoom: number;
      /** Prefix of the room ids (unique per run). */
      roomPrefix: string;
    }
  /** Which node (index into `urls`) owns each room: classifies ack latencies as on-owner or forwarded. */
  | { type: 'owners'; owners: Record<string, number> }
  /** Start the closed loop on every client (send a patch, wait for its ack, send the next). */
  | { type: 'run' }
  /** Report counters and latencies since the previous snapshot. */
  | { type: 'snapshot' }
  /** Stop sending, close every socket. */
  | { type: 'stop' };

/** Counters at one instant. */
export interface ClusterSnapshot {
  /** Broadcast `patch` frames received by all clients since the start. */
  deliveries: number;
  acks: number;
  /** Ack latencies (ms) since the previous snapshot, of clients on their room's owner. */
  ownerLatencies: number[];
  /** The same for clients on another node (their writes are forwarded to the owner). */
  forwardedLatencies: number[];
  /** Sockets closed while running (a benchmark with closes measures something else). */
  closes: number;
}

/** Load client → parent. */
export type FromClusterLoad =
  | { type: 'connected'; clients: number; rooms: string[] }
  | ({ type: 'snapshot' } & ClusterSnapshot)
  | { type: 'stopped' }
  | { type: 'failed'; message: string };
