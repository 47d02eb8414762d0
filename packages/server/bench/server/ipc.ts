/** IPC messages between the server benchmark and its load-generator child (bench/server/load-client.ts). */

/** Parent → load client. */
export type ToLoadClient =
  | {
      type: 'connect';
      /** ws://host:port */
      url: string;
      rooms: number;
      clientsPerRoom: number;
      /** Prefix of the room ids (unique per run). */
      roomPrefix: string;
      /** The server process, whose CPU time each snapshot reads from /proc. */
      serverPid: number;
    }
  /** Start the closed loop on every client. */
  | { type: 'run' }
  /** Report counters and latencies since the previous snapshot. */
  | { type: 'snapshot' }
  /** Stop sending, close every socket and exit. */
  | { type: 'stop' };

/** Counters at one instant, all read in the load client at the same moment. */
export interface Snapshot {
  /** performance.now() of the load client. */
  at: number;
  /** The same instant on the monotonic clock (process.hrtime), µs. */
  monotonicUs: number;
  /** Broadcast `patch` frames received by all clients since the start. */
  deliveries: number;
  /** Acks received since the start. */
  acks: number;
  /** Server process CPU time so far (µs, /proc): user + system, and the system part. */
  serverCpuMicros: number;
  serverSystemMicros: number;
  /** The server's main thread: time on a CPU and time runnable but waiting for one, so far (ns, /proc schedstat). */
  serverMainRunNs: number;
  serverMainWaitNs: number;
  /** This load-client process's CPU time so far (µs, process.cpuUsage()). */
  clientCpuMicros: number;
  /** Ack latencies (ms) of acks received since the previous snapshot. */
  latencies: Float64Array;
  /** 1-minute load average of the machine. */
  loadavg: number;
}

/** Load client → parent. */
export type FromLoadClient =
  | { type: 'connected'; clients: number; connectMs: number }
  | ({ type: 'snapshot' } & Snapshot)
  | { type: 'stopped'; problems: string[] }
  | { type: 'failed'; message: string };
