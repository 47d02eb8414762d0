/** The shapes of the server load benchmark's results, as written to results/server.json. */
import type { ServerKind } from './children.js';
import type { ProfileSummary } from './profile.js';
import type { Scenario, ServerSpec } from './scenarios.js';

/** One measured window of one server in one scenario. */
export interface RunResult {
  round: number;
  scenario: string;
  server: ServerKind;
  windowMs: number;
  deliveries: number;
  acks: number;
  serverCpuMs: number;
  clientCpuMs: number;
  deliveriesPerSec: number;
  acksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerDelivery: number;
  /** Server CPU time / window (1 = one core busy). */
  serverCpuShare: number;
  clientCpuShare: number;
  /** Share of the server's CPU time spent in the kernel (system time). */
  serverSystemShare: number;
  /** Share of the window the server's main thread was runnable but waiting for a CPU (the machine is shared). */
  serverWaitShare: number;
  /** Deliveries per ack (clients per room - 1 when every write is broadcast). */
  fanout: number;
  connectMs: number;
  loadavg: number;
  /** Bytes in the server's data directory after a graceful stop. */
  dataBytes: number;
  exit: number | string;
  problems: string[];
}

/** All rounds of one server in one scenario, pooled. */
export interface Aggregate {
  scenario: string;
  server: ServerKind;
  rounds: number;
  deliveriesPerSec: number;
  acksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerDelivery: number;
  serverCpuShare: number;
  clientCpuShare: number;
  fanout: number;
  problems: string[];
}

/** The target of the issue evaluated on the aggregates. */
export interface TargetResult {
  scenario: string;
  pass: boolean;
  deliveriesPass: boolean;
  cpuPass: boolean;
  oursDeliveriesPerSec: number;
  publishedDeliveriesPerSec: number;
  deliveriesRatio: number;
  minDeliveriesRatio: number;
  oursCpuUsPerDelivery: number;
  publishedCpuUsPerDelivery: number;
  cpuRatio: number;
  maxCpuRatio: number;
}

/** A summarised `--cpu-prof` profile of our server in one scenario. */
export interface ProfileResult extends ProfileSummary {
  scenario: string;
  /** The .cpuprofile kept in results/. */
  file: string;
  /** What the profiled run (slowed by the profiler) measured. */
  run: RunResult;
  /** Why this scenario was profiled. */
  reason: string;
}

/** The machine-readable result file, results/server.json (read by bench/report.ts). */
export interface ServerBenchJson {
  benchmark: 'server';
  date: string;
  runSeconds: number;
  machine: {
    cpuModel: string;
    cores: number;
    node: string;
    platform: string;
    totalMemGiB: number;
    loadavgStart: number;
    loadavgEnd: number;
  };
  source: { commit: string; uncommittedSrc: string[] };
  config: { warmupMs: number; windowMs: number; rounds: number };
  servers: ServerSpec[];
  scenarios: Scenario[];
  aggregates: Aggregate[];
  runs: RunResult[];
  target: TargetResult;
  /** Profiles of our server (see `PROFILE` in scenarios.ts), one per profiled scenario. */
  profiles: ProfileResult[];
}
