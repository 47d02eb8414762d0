/**
 * Cluster benchmark (`npm run bench:cluster`, issue 14): one 150-client room
 * and 30 rooms x 5 clients, spread over 1, 2 and 3 cluster nodes on this
 * machine, against single-node mode (no Redis) in the same run. All setups
 * store in PostgreSQL (cluster mode requires it), each run in a fresh
 * database, with a private redis-server.
 *
 * Per setup and scenario: deliveries/s (broadcasts received by the clients),
 * acks/s, p99 ack latency (all clients; on-owner vs forwarded), and CPU time
 * per delivery (every node plus Redis, from /proc) with each node's share.
 * The extra latency of a forwarded write is the p99 of forwarded acks minus
 * the p99 of on-owner acks in the same run. `--quick`: one short round;
 * `--setups=c1,c3`: only those setups besides the single-node baseline.
 * Writes bench/results/cluster.md and cluster.json and the cluster block of
 * docs/performance.md; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunDatabase } from '../../test/harness/cluster-postgres.js';
import { PrivateRedis } from '../../test/harness/cluster-redis.js';
import { killAllChildren, WORKSPACE_ROOT } from '../lib/child-processes.js';
import { IpcChild } from '../lib/ipc-child.js';
import { clockTicksPerSecond, processCpuMicros } from '../server/proc.js';
import type { ClusterSnapshot, FromClusterLoad, ToClusterLoad } from './cluster-ipc.js';
import { type NodeSet, startNodes, stopNodes } from './cluster-nodes.js';

const QUICK = process.argv.includes('--quick');
const WARMUP_MS = QUICK ? 1_000 : 2_000;
const WINDOW_MS = QUICK ? 3_000 : 8_000;
const ROUNDS = QUICK ? 1 : 2;
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const LOAD_SCRIPT = fileURLToPath(new URL('./cluster-load.ts', import.meta.url));

interface Setup {
  id: string;
  label: string;
  nodes: number;
  cluster: boolean;
}
const ALL_SETUPS: Setup[] = [
  { id: 'single', label: 'single node (no Redis)', nodes: 1, cluster: false },
  { id: 'c1', label: 'cluster, 1 node', nodes: 1, cluster: true },
  { id: 'c2', label: 'cluster, 2 nodes', nodes: 2, cluster: true },
  { id: 'c3', label: 'cluster, 3 nodes', nodes: 3, cluster: true },
];
/** `--setups=single,c2` runs a subset (the single-node baseline is always kept: every ratio needs it). */
const SETUPS_ARG = process.argv.find((arg) => arg.startsWith('--setups='))?.slice('--setups='.length);
const SETUPS = SETUPS_ARG
  ? ALL_SETUPS.filter((setup) => setup.id === 'single' || SETUPS_ARG.split(',').includes(setup.id))
  : ALL_SETUPS;
const SCENARIOS = [
  { id: '1x150', label: '1 room x 150 clients', rooms: 1, clientsPerRoom: 150 },
  { id: '30x5', label: '30 rooms x 5 clients', rooms: 30, clientsPerRoom: 5 },
];

/** One measured window. */
export interface ClusterRun {
  setup: string;
  scenario: string;
  round: number;
  deliveriesPerSec: number;
  acksPerSec: number;
  p99Ms: number;
  ownerP99Ms: number | null;
  forwardedP99Ms: number | null;
  /** CPU of every node and Redis over the window, per delivery (µs). */
  cpuUsPerDelivery: number;
  /** Each node's CPU per delivery (µs): its share of the total. */
  nodeCpuUsPerDelivery: number[];
  redisCpuUsPerDelivery: number;
  closes: number;
}

const ticks = clockTicksPerSecond();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (text: string) => process.stderr.write(`${text}\n`);

function p99(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number;
}

function cpuOf(pid: number): number {
  const { user, system } = processCpuMicros(pid, ticks);
  return user + system;
}

/** The cluster load generator, a child process driven over IPC. */
class Load extends IpcChild<ToClusterLoad, FromClusterLoad> {
  constructor() {
    super('load client', LOAD_SCRIPT);
  }
}

async function measure(
  setup: Setup,
  scenario: (typeof SCENARIOS)[number],
  round: number,
  redis: PrivateRedis,
): Promise<ClusterRun> {
  const db = await createRunDatabase(`bench${setup.id}`);
  let nodes: NodeSet | undefined;
  const load = new Load();
  try {
    nodes = await startNodes(setup.nodes, db.url, setup.cluster ? redis.url : undefined);
    load.send({
      type: 'connect',
      urls: nodes.nodes.map((node) => `ws://127.0.0.1:${node.port}/`),
      rooms: scenario.rooms,
      clientsPerRoom: scenario.clientsPerRoom,
      roomPrefix: `bench-${scenario.id}-${round}`,
    });
    const { rooms } = await load.next('connected');
    load.send({ type: 'owners', owners: await nodes.owners(rooms) });
    load.send({ type: 'run' });
    await sleep(WARMUP_MS);
    load.send({ type: 'snapshot' });
    const start: ClusterSnapshot = await load.next('snapshot');
    const cpuStart = nodes.nodes.map((node) => cpuOf(node.pid));
    const redisStart = setup.cluster ? cpuOf(redis.pid) : 0;
    await sleep(WINDOW_MS);
    load.send({ type: 'snapshot' });
    const end: ClusterSnapshot = await load.next('snapshot');
    const cpuEnd = nodes.nodes.map((node) => cpuOf(node.pid));
    const redisCpu = setup.cluster ? cpuOf(redis.pid) - redisStart : 0;
    load.send({ type: 'stop' });
    await load.next('stopped');
    const deliveries = end.deliveries - start.deliveries;
    const nodeCpu = cpuEnd.map((cpu, i) => cpu - (cpuStart[i] as number));
    const perDelivery = (micros: number) => (deliveries > 0 ? micros / deliveries : Number.NaN);
    const all = [...end.ownerLatencies, ...end.forwardedLatencies];
    return {
      setup: setup.id,
      scenario: scenario.id,
      round,
      deliveriesPerSec: deliveries / (WINDOW_MS / 1000),
      acksPerSec: (end.acks - start.acks) / (WINDOW_MS / 1000),
      p99Ms: p99(all) ?? Number.NaN,
      ownerP99Ms: p99(end.ownerLatencies),
      forwardedP99Ms: p99(end.forwardedLatencies),
      cpuUsPerDelivery: perDelivery(nodeCpu.reduce((a, b) => a + b, 0) + redisCpu),
      nodeCpuUsPerDelivery: nodeCpu.map(perDelivery),
      redisCpuUsPerDelivery: perDelivery(redisCpu),
      closes: end.closes,
    };
  } finally {
    load.kill();
    if (nodes) await stopNodes(nodes);
    await db.drop();
  }
}

const fmt = (value: number | null, digits = 1) =>
  value === null || Number.isNaN(value) ? '–' : value.toFixed(digits);

/** Pools the rounds of one setup and scenario (mean of rates, max of p99s). */
function pooled(runs: ClusterRun[]): ClusterRun {
  const first = runs[0] as ClusterRun;
  const mean = (pick: (run: ClusterRun) => number) =>
    runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const maxOf = (pick: (run: ClusterRun) => number | null) => {
    const values = runs.map(pick).filter((value): value is number => value !== null);
    return values.length > 0 ? Math.max(...values) : null;
  };
  return {
    ...first,
    deliveriesPerSec: mean((run) => run.deliveriesPerSec),
    acksPerSec: mean((run) => run.acksPerSec),
    p99Ms: maxOf((run) => run.p99Ms) ?? Number.NaN,
    ownerP99Ms: maxOf((run) => run.ownerP99Ms),
    forwardedP99Ms: maxOf((run) => run.forwardedP99Ms),
    cpuUsPerDelivery: mean((run) => run.cpuUsPerDelivery),
    nodeCpuUsPerDelivery: first.nodeCpuUsPerDelivery.map((_, i) =>
      mean((run) => run.nodeCpuUsPerDelivery[i] ?? 0),
    ),
    redisCpuUsPerDelivery: mean((run) => run.redisCpuUsPerDelivery),
    closes: runs.reduce((sum, run) => sum + run.closes, 0),
  };
}

function markdown(runs: ClusterRun[]): string {
  const lines = [
    `Cluster benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ` +
      `Node ${process.version}, ${ROUNDS} round(s) of ${WINDOW_MS / 1000} s${QUICK ? ' (--quick)' : ''}; ` +
      'every node, Redis and the load generator share this machine. PostgreSQL storage in every setup.',
    '',
    '| scenario | setup | deliveries/s | vs single | acks/s | p99 ack ms | p99 on owner | p99 forwarded | forwarded extra | CPU µs/delivery (nodes+Redis) | per node | Redis | closes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const scenario of SCENARIOS) {
    const baseRuns = runs.filter((run) => run.scenario === scenario.id && run.setup === 'single');
    const baseRate = baseRuns.length > 0 ? pooled(baseRuns).deliveriesPerSec : Number.NaN;
    for (const setup of SETUPS) {
      const mine = runs.filter((run) => run.scenario === scenario.id && run.setup === setup.id);
      if (mine.length === 0) continue;
      const row = pooled(mine);
      const extra =
        row.forwardedP99Ms !== null && row.ownerP99Ms !== null ? row.forwardedP99Ms - row.ownerP99Ms : null;
      lines.push(
        `| ${scenario.label} | ${setup.label} | ${fmt(row.deliveriesPerSec, 0)} | ${fmt(row.deliveriesPerSec / baseRate, 2)}x | ${fmt(row.acksPerSec, 0)} | ` +
          `${fmt(row.p99Ms)} | ${fmt(row.ownerP99Ms)} | ${fmt(row.forwardedP99Ms)} | ${fmt(extra)} | ${fmt(row.cpuUsPerDelivery, 2)} | ` +
          `${row.nodeCpuUsPerDelivery.map((v) => fmt(v, 2)).join(' / ')} | ${fmt(row.redisCpuUsPerDelivery, 2)} | ${row.closes} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const PERFORMANCE_DOC = fileURLToPath(new URL('../../../../docs/performance.md', import.meta.url));
const DOC_START = '<!-- cluster-figures:start -->';
const DOC_END = '<!-- cluster-figures:end -->';

/** Replaces the cluster block of docs/performance.md with the new table (when the block exists). */
async function updatePerformanceDoc(table: string): Promise<void> {
  const doc = await readFile(PERFORMANCE_DOC, 'utf8');
  const start = doc.indexOf(DOC_START);
  const end = doc.indexOf(DOC_END);
  if (start < 0 || end < start) return;
  await writeFile(PERFORMANCE_DOC, `${doc.slice(0, start + DOC_START.length)}\n${table}${doc.slice(end)}`);
  // biome formats Markdown tables (npm run lint checks it): align the new one as it would.
  execFileSync(
    join(WORKSPACE_ROOT, 'node_modules', '.bin', 'biome'),
    ['format', '--write', PERFORMANCE_DOC],
    {
      stdio: 'ignore',
    },
  );
}

async function main(): Promise<void> {
  const redis = await PrivateRedis.start();
  const runs: ClusterRun[] = [];
  const failures: Array<{ setup: string; scenario: string; round: number; message: string }> = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        // Rotate the order between rounds so no setup always runs on a warmer machine.
        const order = SETUPS.map((_, i) => SETUPS[(i + round) % SETUPS.length] as Setup);
        for (const setup of order) {
          log(`round ${round + 1}/${ROUNDS} ${scenario.id} ${setup.id} ...`);
          try {
            const run = await measure(setup, scenario, round, redis);
            log(`  ${fmt(run.deliveriesPerSec, 0)} deliveries/s, p99 ${fmt(run.p99Ms)} ms`);
            runs.push(run);
          } catch (error) {
            // One failed window (a client not synced in time on an overloaded machine) must not lose the others.
            const message = error instanceof Error ? error.message : String(error);
            log(`  failed: ${message}`);
            failures.push({ setup: setup.id, scenario: scenario.id, round, message });
          }
        }
      }
    }
  } finally {
    await redis.kill();
  }
  const failed = failures.map(
    (f) => `- failed window: ${f.scenario} ${f.setup} round ${f.round + 1}: ${f.message}`,
  );
  const table = `${markdown(runs)}${failed.length > 0 ? `\n${failed.join('\n')}\n` : ''}`;
  process.stdout.write(table);
  await writeFile(`${RESULTS}cluster.md`, table);
  await updatePerformanceDoc(table);
  await writeFile(
    `${RESULTS}cluster.json`,
    `${JSON.stringify({ benchmark: 'cluster', date: new Date().toISOString(), quick: QUICK, cores: os.cpus().length, node: process.version, windowMs: WINDOW_MS, rounds: ROUNDS, runs, failures }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  killAllChildren();
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
