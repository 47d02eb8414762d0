/** IPC messages between the big-room benchmark and its load-generator processes (bigroom/load-worker.ts). */

/** Parent → worker. */
export type ToWorker =
  | {
      type: 'setup';
      /** ws://host:port */
      url: string;
      roomId: string;
      /** Room size and this worker's share of client indices. */
      size: number;
      first: number;
      count: number;
      movers: number;
      writers: number;
      cursorHz: number;
      writeHz: number;
      /** Clients of this worker that record the delay of every cursor update they receive. */
      probes: number;
    }
  /** Join these client indices (of this worker's share), spread evenly over `withinMs`. */
  | { type: 'join'; indices: number[]; withinMs: number }
  /** Movers and writers start sending. */
  | { type: 'run' }
  /** Report counters since the previous sample. */
  | { type: 'sample' }
  /** Close every socket and exit. */
  | { type: 'stop' };

/** Counters of one worker since its previous sample. */
export interface WorkerSample {
  /** Cursor updates received (every client, every entry of a coalesced frame counts). */
  cursorUpdates: number;
  /** Cursor moves and shape writes sent. */
  cursorsSent: number;
  writesSent: number;
  /** Shape writes received as broadcasts (document patches). */
  shapeDeliveries: number;
  /** Delays (ms) from send to arrival of every cursor update a probe client received. */
  delays: Float64Array;
  /** Mover ticks skipped because the worker's timer ran late (load generator saturated). */
  lateTicks: number;
  /** This worker's CPU time so far, µs. */
  cpuMicros: number;
  /** Sockets closed by the server so far, with their close codes. */
  closes: Record<string, number>;
}

/** Worker → parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'joined'; joinMs: Float64Array; failures: string[] }
  | ({ type: 'sample' } & WorkerSample)
  | { type: 'stopped' }
  | { type: 'failed'; message: string };
