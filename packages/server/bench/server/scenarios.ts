/**
 * What the server load benchmark runs: its settings (from the environment),
 * the servers it compares, the scenarios and the target.
 */
import { fileURLToPath } from 'node:url';
import type { ServerKind } from './children.js';

/** Where server.md, server.json and kept profiles are written. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export const WARMUP_MS = envNumber('BENCH_SERVER_WARMUP_MS', 2_000);
/** Length of the measured window, ms. */
export const WINDOW_MS = envNumber('BENCH_SERVER_WINDOW_MS', 5_000);
/** Measured rounds per server and scenario. */
export const ROUNDS = Math.round(envNumber('BENCH_SERVER_ROUNDS', 3));
/**
 * `auto` (default): profile our server in the target scenario when the target
 * is missed, and in every scenario where it delivers less than the published
 * server; `1`: in every scenario; `0`: never.
 */
export const PROFILE = process.env.BENCH_SERVER_PROFILE ?? 'auto';

/** The target of the issue: in the 50-client room, deliveries and CPU per delivery against published. */
export const TARGET = { scenario: '1x50', minDeliveriesRatio: 2.5, maxCpuRatio: 0.4 };

/** One server under test. */
export interface ServerSpec {
  id: ServerKind;
  label: string;
  description: string;
}

/** One load shape: rooms x clients per room. */
export interface Scenario {
  id: string;
  label: string;
  rooms: number;
  clientsPerRoom: number;
}

/** The servers compared, in their default order. */
export const SERVERS: ServerSpec[] = [
  {
    id: 'ours',
    label: 'ours (SQLite)',
    description:
      'our CLI, dist/server/cli.js --storage sqlite --log-level warn, rate limits raised (--frames-per-second 100000 --bytes-per-second 1000000000); acks wait for the SQLite commit',
  },
  {
    id: 'published',
    label: 'published 2.0.2',
    description:
      '@woven-ecs/canvas-store-server@2.0.2: ws + acceptConnection + RoomManager, authorize accepts all, FileStorage per room (acks at once, whole-room save at most every 10 s)',
  },
  {
    id: 'relay',
    label: 'bare relay',
    description:
      'ws server that only acks and forwards each patch to the rest of its room, one ws.send per frame (no batching, no document, no storage)',
  },
];

/** The scenarios, in the order they run. */
export const SCENARIOS: Scenario[] = [
  { id: '1x10', label: '1 room x 10 clients', rooms: 1, clientsPerRoom: 10 },
  { id: '1x50', label: '1 room x 50 clients', rooms: 1, clientsPerRoom: 50 },
  { id: '20x5', label: '20 rooms x 5 clients', rooms: 20, clientsPerRoom: 5 },
];
