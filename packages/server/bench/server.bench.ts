/**
 * Server load benchmark: our runnable server (the real CLI, persisting to
 * SQLite) against the published server (`@woven-ecs/canvas-store-server@2.0.2`
 * wired over `ws`) and a bare relay, each in a process of its own, under
 * closed-loop load from a separate load-generator process.
 * Run with `npm run bench:server` (builds first).
 *
 * For every scenario (rooms x clients per room) and server: start the server
 * (`--port 0`, port found through /proc), connect the clients, run the closed
 * loop (each client: send a patch, wait for its ack, send the next), warm up,
 * then measure a fixed window: deliveries/s (broadcast frames received by the
 * clients), acks/s, ack latency p50/p99, and server CPU time per delivery
 * (utime + stime of the server process from /proc over the window).
 * Rounds are interleaved and the servers' order rotates between rounds.
 *
 * Writes bench/results/server.md and bench/results/server.json. The target
 * is printed as PASS/FAIL, never asserted. When it is missed, our server is
 * run once more under `node --cpu-prof` and the profile is summarised.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CLI,
  killAllChildren,
  LoadClient,
  type RunningServer,
  type ServerKind,
  startServer,
  stopServer,
  WORKSPACE_ROOT,
} from './server/children.js';
import { int, ms, num, percent, ratio, table } from './server/format.js';
import type { Snapshot } from './server/ipc.js';
import { type ProfileSummary, summarizeProfile } from './server/profile.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const WARMUP_MS = envNumber('BENCH_SERVER_WARMUP_MS', 2_000);
const WINDOW_MS = envNumber('BENCH_SERVER_WINDOW_MS', 5_000);
const ROUNDS = Math.round(envNumber('BENCH_SERVER_ROUNDS', 3));
/**
 * `auto` (default): profile our server in the target scenario when the target
 * is missed, and in every scenario where it delivers less than the published
 * server; `1`: in every scenario; `0`: never.
 */
const PROFILE = process.env.BENCH_SERVER_PROFILE ?? 'auto';

/** The target of the issue: in the 50-client room, deliveries and CPU per delivery against published. */
const TARGET = { scenario: '1x50', minDeliveriesRatio: 2.5, maxCpuRatio: 0.4 };

interface ServerSpec {
  id: ServerKind;
  label: string;
  description: string;
}

interface Scenario {
  id: string;
  label: string;
  rooms: number;
  clientsPerRoom: number;
}

const SERVERS: ServerSpec[] = [
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

const SCENARIOS: Scenario[] = [
  { id: '1x10', label: '1 room x 10 clients', rooms: 1, clientsPerRoom: 10 },
  { id: '1x50', label: '1 room x 50 clients', rooms: 1, clientsPerRoom: 50 },
  { id: '20x5', label: '20 rooms x 5 clients', rooms: 20, clientsPerRoom: 5 },
];

/** One measured window of one server in one scenario. */
interface RunResult {
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

interface TargetResult {
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
interface ProfileResult extends ProfileSummary {
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
  /** Profiles of our server (see {@link PROFILE}), one per profiled scenario. */
  profiles: ProfileResult[];
}

/** Temporary directories still to remove, also on an interrupted run. */
const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

const sleep = (delay: number) => new Promise<void>((resolve) => setTimeout(resolve, delay));

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function git(args: string[]): string {
  try {
    // Only trailing whitespace: porcelain status lines start with a significant space.
    return execFileSync('git', args, { cwd: WORKSPACE_ROOT, encoding: 'utf8' }).trimEnd();
  } catch {
    return '';
  }
}

interface Measured {
  result: RunResult;
  /** The measured window on the monotonic clock, µs. */
  window: { fromUs: number; toUs: number };
}

/** Starts `kind`, loads it with `scenario` for warm-up + window, stops everything. */
async function measure(
  kind: ServerKind,
  scenario: Scenario,
  round: number,
  cpuProfDir?: string,
): Promise<Measured> {
  const dataDir = await makeTempDir(`canvas-bench-server-${kind}-`);
  let server: RunningServer | undefined;
  let load: LoadClient | undefined;
  try {
    server = await startServer(kind, cpuProfDir ? { dataDir, cpuProfDir } : { dataDir });
    load = new LoadClient();
    load.send({
      type: 'connect',
      url: `ws://127.0.0.1:${server.port}`,
      rooms: scenario.rooms,
      clientsPerRoom: scenario.clientsPerRoom,
      roomPrefix: `bench-${scenario.id}-r${round}`,
      serverPid: server.pid,
    });
    const connected = await load.next('connected', 60_000);
    load.send({ type: 'run' });
    await sleep(WARMUP_MS);
    load.send({ type: 'snapshot' });
    const start: Snapshot = await load.next('snapshot', 15_000);
    await sleep(WINDOW_MS);
    load.send({ type: 'snapshot' });
    const end: Snapshot = await load.next('snapshot', 15_000);
    load.send({ type: 'stop' });
    const stopped = await load.next('stopped', 20_000);
    await load.close();
    load = undefined;
    const exit = await stopServer(server);
    server = undefined;
    const dataBytes = await dirSize(dataDir);

    const windowMs = end.at - start.at;
    const deliveries = end.deliveries - start.deliveries;
    const acks = end.acks - start.acks;
    const serverCpuMs = (end.serverCpuMicros - start.serverCpuMicros) / 1000;
    const clientCpuMs = (end.clientCpuMicros - start.clientCpuMicros) / 1000;
    const latencies = end.latencies.slice().sort();
    const problems = [...stopped.problems];
    if (exit !== 0) problems.push(`server exit ${exit}`);
    const expectedFanout = scenario.clientsPerRoom - 1;
    if (acks > 0 && deliveries / acks < 0.9 * expectedFanout) {
      problems.push(`fan-out ${(deliveries / acks).toFixed(2)}, expected ${expectedFanout}`);
    }
    return {
      window: { fromUs: start.monotonicUs, toUs: end.monotonicUs },
      result: {
        round,
        scenario: scenario.id,
        server: kind,
        windowMs,
        deliveries,
        acks,
        serverCpuMs,
        clientCpuMs,
        deliveriesPerSec: (deliveries * 1000) / windowMs,
        acksPerSec: (acks * 1000) / windowMs,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        cpuUsPerDelivery: deliveries > 0 ? (serverCpuMs * 1000) / deliveries : Number.NaN,
        serverCpuShare: serverCpuMs / windowMs,
        clientCpuShare: clientCpuMs / windowMs,
        serverSystemShare:
          serverCpuMs > 0
            ? (end.serverSystemMicros - start.serverSystemMicros) / 1000 / serverCpuMs
            : Number.NaN,
        serverWaitShare: (end.serverMainWaitNs - start.serverMainWaitNs) / 1e6 / windowMs,
        fanout: acks > 0 ? deliveries / acks : Number.NaN,
        connectMs: connected.connectMs,
        loadavg: end.loadavg,
        dataBytes,
        exit,
        problems,
      },
    };
  } finally {
    load?.kill();
    if (server) server.child.kill('SIGKILL');
    await removeTempDir(dataDir);
  }
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median of the rounds for every metric (robust to one round disturbed by other load on the machine). */
function aggregate(scenario: string, server: ServerKind, runs: Measured[]): Aggregate {
  const rs = runs.map((run) => run.result);
  const of = (pick: (r: RunResult) => number) => median(rs.map(pick));
  return {
    scenario,
    server,
    rounds: rs.length,
    deliveriesPerSec: of((r) => r.deliveriesPerSec),
    acksPerSec: of((r) => r.acksPerSec),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    cpuUsPerDelivery: of((r) => r.cpuUsPerDelivery),
    serverCpuShare: of((r) => r.serverCpuShare),
    clientCpuShare: of((r) => r.clientCpuShare),
    fanout: of((r) => r.fanout),
    problems: rs.flatMap((r) => r.problems.map((p) => `round ${r.round}: ${p}`)),
  };
}

function findAggregate(aggregates: Aggregate[], scenario: string, server: ServerKind): Aggregate {
  const found = aggregates.find((a) => a.scenario === scenario && a.server === server);
  if (!found) throw new Error(`no result for ${server} in ${scenario}`);
  return found;
}

function evaluateTarget(aggregates: Aggregate[]): TargetResult {
  const ours = findAggregate(aggregates, TARGET.scenario, 'ours');
  const published = findAggregate(aggregates, TARGET.scenario, 'published');
  const deliveriesRatio = ours.deliveriesPerSec / published.deliveriesPerSec;
  const cpuRatio = ours.cpuUsPerDelivery / published.cpuUsPerDelivery;
  const deliveriesPass = deliveriesRatio >= TARGET.minDeliveriesRatio;
  const cpuPass = cpuRatio <= TARGET.maxCpuRatio;
  return {
    scenario: TARGET.scenario,
    pass: deliveriesPass && cpuPass,
    deliveriesPass,
    cpuPass,
    oursDeliveriesPerSec: ours.deliveriesPerSec,
    publishedDeliveriesPerSec: published.deliveriesPerSec,
    deliveriesRatio,
    minDeliveriesRatio: TARGET.minDeliveriesRatio,
    oursCpuUsPerDelivery: ours.cpuUsPerDelivery,
    publishedCpuUsPerDelivery: published.cpuUsPerDelivery,
    cpuRatio,
    maxCpuRatio: TARGET.maxCpuRatio,
  };
}

function targetLines(target: TargetResult): string[] {
  const scenario = SCENARIOS.find((s) => s.id === target.scenario)?.label ?? target.scenario;
  return [
    `- **${target.pass ? 'PASS' : 'FAIL'}**: in the ${scenario} scenario, ours delivers >= ${target.minDeliveriesRatio}x the published server's deliveries/s at <= ${percent(target.maxCpuRatio)} of its CPU per delivery, while persisting to SQLite.`,
    `  - ${target.deliveriesPass ? 'PASS' : 'FAIL'} deliveries/s: ours ${int(target.oursDeliveriesPerSec)} vs published ${int(target.publishedDeliveriesPerSec)} = ${ratio(target.deliveriesRatio)} (target >= ${target.minDeliveriesRatio}x)`,
    `  - ${target.cpuPass ? 'PASS' : 'FAIL'} CPU per delivery: ours ${num(target.oursCpuUsPerDelivery, 2)} µs vs published ${num(target.publishedCpuUsPerDelivery, 2)} µs = ${percent(target.cpuRatio)} of published (target <= ${percent(target.maxCpuRatio)})`,
  ];
}

function serverLabel(id: ServerKind): string {
  return SERVERS.find((s) => s.id === id)?.label ?? id;
}

function scenarioLabel(id: string): string {
  return SCENARIOS.find((s) => s.id === id)?.label ?? id;
}

function renderMarkdown(json: ServerBenchJson): string {
  const { machine } = json;
  const out: string[] = [];
  out.push('# Server load benchmark: ours vs published vs bare relay', '');
  out.push(`- Date: ${json.date}`);
  out.push(`- Node: ${machine.node} (${machine.platform})`);
  out.push(`- CPU: ${machine.cpuModel} x ${machine.cores}, ${machine.totalMemGiB} GiB RAM`);
  out.push(
    `- Source: ${json.source.commit || 'unknown commit'}${json.source.uncommittedSrc.length > 0 ? `, with uncommitted changes in ${json.source.uncommittedSrc.join(', ')}` : ''} (our server is built from the working tree)`,
  );
  out.push(
    `- Run time: ${num(json.runSeconds, 1)} s; 1-minute load average ${num(machine.loadavgStart, 2)} at start, ${num(machine.loadavgEnd, 2)} at end`,
  );
  out.push(
    `- Load: closed loop, ${json.config.rounds} rounds per server and scenario (servers' order rotated per round), each ${json.config.warmupMs / 1000} s warm-up + ${json.config.windowMs / 1000} s measured; every number below is the median of the rounds (spread under Rounds)`,
  );
  out.push(
    `- **The load generator and the server share this machine's ${machine.cores} cores** (plus whatever else runs on it), so a server that spends less CPU also leaves more CPU to the clients; absolute rates are lower than on a dedicated server.`,
    '',
  );

  out.push(
    table(
      [
        'Scenario',
        'Server',
        'Deliveries/s',
        'Acks/s',
        'p50 ack (ms)',
        'p99 ack (ms)',
        'Server CPU µs/delivery',
        'Server CPU',
        'Load-gen CPU',
      ],
      json.aggregates.map((a) => [
        scenarioLabel(a.scenario),
        serverLabel(a.server),
        int(a.deliveriesPerSec),
        int(a.acksPerSec),
        ms(a.p50Ms),
        ms(a.p99Ms),
        num(a.cpuUsPerDelivery, 2),
        percent(a.serverCpuShare),
        percent(a.clientCpuShare),
      ]),
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
  );
  out.push(
    'Deliveries: broadcast `patch` frames received by the clients. Server CPU µs/delivery: user + system CPU time of the server process (all its threads, /proc/<pid>/stat) over the window, divided by the deliveries in the window. CPU columns: CPU time / wall time (100% = one core). A server below 100% is not necessarily idle: "Server waits for CPU" (under Rounds) is the share of the window its main thread was runnable but waiting for a core (/proc/<pid>/schedstat), i.e. CPU-bound but sharing the machine.',
    '',
  );

  out.push('## Target', '', ...targetLines(json.target), '');

  out.push('## Ours relative to the others', '');
  out.push(
    table(
      [
        'Scenario',
        'Deliveries/s vs published',
        'CPU/delivery vs published',
        'p99 ack vs published',
        'Deliveries/s vs relay',
        'CPU/delivery vs relay',
      ],
      json.scenarios.map((s) => {
        const ours = findAggregate(json.aggregates, s.id, 'ours');
        const published = findAggregate(json.aggregates, s.id, 'published');
        const relay = findAggregate(json.aggregates, s.id, 'relay');
        return [
          s.label,
          ratio(ours.deliveriesPerSec / published.deliveriesPerSec),
          percent(ours.cpuUsPerDelivery / published.cpuUsPerDelivery),
          ratio(ours.p99Ms / published.p99Ms),
          ratio(ours.deliveriesPerSec / relay.deliveriesPerSec),
          percent(ours.cpuUsPerDelivery / relay.cpuUsPerDelivery),
        ];
      }),
      ['left', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
  );

  out.push('## Rounds', '');
  out.push(
    table(
      [
        'Scenario',
        'Server',
        'Round',
        'Window (s)',
        'Deliveries/s',
        'Acks/s',
        'Fan-out',
        'p50 (ms)',
        'p99 (ms)',
        'µs/delivery',
        'Server CPU',
        'of it in kernel',
        'Load-gen CPU',
        'Server waits for CPU',
        'Load avg',
        'Data after stop',
        'Problems',
      ],
      json.runs.map((r) => [
        scenarioLabel(r.scenario),
        serverLabel(r.server),
        String(r.round),
        num(r.windowMs / 1000, 2),
        int(r.deliveriesPerSec),
        int(r.acksPerSec),
        num(r.fanout, 2),
        ms(r.p50Ms),
        ms(r.p99Ms),
        num(r.cpuUsPerDelivery, 2),
        percent(r.serverCpuShare),
        percent(r.serverSystemShare),
        percent(r.clientCpuShare),
        percent(r.serverWaitShare),
        num(r.loadavg, 2),
        r.server === 'relay' ? 'n/a' : `${int(r.dataBytes / 1024)} KiB`,
        r.problems.length > 0 ? r.problems.join('; ') : 'none',
      ]),
      [
        'left',
        'left',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'left',
      ],
    ),
    '',
  );

  out.push('## Servers', '');
  for (const s of json.servers) out.push(`- **${s.label}**: ${s.description}.`);
  out.push('');
  out.push('## Method', '');
  out.push(
    '- Every server is a child process of its own, started fresh (new data directory) for every scenario and round with `--port 0` on 127.0.0.1; its port is read from /proc. It is stopped gracefully (SIGTERM) after each run; "Data after stop" is the size of its data directory then (ours: rooms.db with its WAL; published: the room JSON files).',
    '- The load generator is another child process (bench/server/load-client.ts, raw `ws` clients, no permessage-deflate). Each client sends `reconnect` and waits for `synced`; once all are connected, each runs a closed loop: one `patch` of one component (`{"<client>-<n mod 8>/Shape":{"_exists":true,"x":n,"y":n}}`), wait for its `ack`, send the next. Clients count the broadcast `patch` frames they receive (classified by their first bytes, not parsed) and time each ack (send to ack).',
    "- The window's counters, the server's CPU time (/proc/<pid>/stat utime + stime, 10 ms ticks) and the load generator's CPU time (process.cpuUsage()) are read in the load generator at the same instant at the start and at the end of the window. Latency percentiles are over every ack of the window.",
    "- Fan-out = deliveries / acks; with every write broadcast to the rest of the room it is clients per room - 1 (small deviations come from frames in flight at the window's edges).",
    '- Our server is the built CLI (`npm run build`), so it includes everything it runs in production: JSON logs (warn level), Prometheus counters per frame, heartbeats, rate-limit token buckets (raised, still evaluated), validation, the clocked document, the commit pipeline and the per-iteration write batching.',
    '',
  );

  for (const p of json.profiles) {
    out.push(`## Profile of our server: ${scenarioLabel(p.scenario)}`, '');
    out.push(
      `Profiled because ${p.reason}. \`node --cpu-prof --cpu-prof-interval 500\` on our server's process during one extra run of the scenario (not part of the numbers above; the profiler slows it: this run made ${int(p.run.deliveriesPerSec)} deliveries/s at ${num(p.run.cpuUsPerDelivery, 2)} µs/delivery). ${p.windowed ? 'Only the samples of the measurement window are counted' : 'The window could not be matched to the profile clock, so the whole process life (start-up, connect, warm-up, window, shutdown) is counted'}: ${int(p.durationMs)} ms sampled, ${int(p.busyMs)} ms of it not idle on the JS thread ("busy"; includes time the thread was runnable but descheduled), of which ${int(p.gcMs)} ms in GC and ${int(p.oursMs)} ms self time in our src/. Inclusive = the function and everything it called. The whole profile is in [${p.file}](${p.file}) (Chrome DevTools > Performance > Load profile).`,
      '',
    );
    out.push('### Self time by function', '');
    out.push(
      table(
        ['Function', 'Location', 'Self (ms)', 'Self % of busy', 'Inclusive (ms)'],
        p.topSelf.map((e) => [
          `\`${e.name}\``,
          e.location,
          num(e.selfMs, 1),
          percent(e.selfMs / p.busyMs),
          num(e.totalMs, 1),
        ]),
        ['left', 'left', 'right', 'right', 'right'],
      ),
      '',
    );
    out.push('### Our functions (src/) by inclusive time', '');
    out.push(
      table(
        ['Function', 'Location', 'Inclusive (ms)', '% of busy', 'Self (ms)'],
        p.topOursInclusive.map((e) => [
          `\`${e.name}\``,
          e.location,
          num(e.totalMs, 1),
          percent(e.totalMs / p.busyMs),
          num(e.selfMs, 1),
        ]),
        ['left', 'left', 'right', 'right', 'right'],
      ),
      '',
    );
    out.push('### Self time by file or module', '');
    out.push(
      table(
        ['File / module', 'Self (ms)', '% of busy'],
        p.byFile.map((e) => [e.location, num(e.selfMs, 1), percent(e.selfMs / p.busyMs)]),
        ['left', 'right', 'right'],
      ),
      '',
    );
  }
  return out.join('\n');
}

/** Runs our server once more under `--cpu-prof` in `scenario` and summarises the window. */
async function profileOurs(scenario: Scenario, reason: string): Promise<ProfileResult | null> {
  const profDir = await makeTempDir('canvas-bench-server-prof-');
  try {
    log(`profiling our server (${scenario.label}) with --cpu-prof: ${reason}`);
    const { window, result } = await measure('ours', scenario, 0, profDir);
    const first = (await readdir(profDir)).find((name) => name.endsWith('.cpuprofile'));
    if (!first) {
      log('no .cpuprofile was written');
      return null;
    }
    const summary = summarizeProfile(join(profDir, first), { window });
    const file = `server-ours-${scenario.id}.cpuprofile`;
    await copyFile(join(profDir, first), join(RESULTS_DIR, file));
    // node writes profiles owner-only; this one is a result like the others.
    await chmod(join(RESULTS_DIR, file), 0o644);
    return { ...summary, scenario: scenario.id, file, run: result, reason };
  } finally {
    await removeTempDir(profDir);
  }
}

/** The scenarios to profile, with the reason (see {@link PROFILE}). */
function scenariosToProfile(aggregates: Aggregate[], target: TargetResult): Array<[Scenario, string]> {
  if (PROFILE === '0') return [];
  return SCENARIOS.flatMap((scenario): Array<[Scenario, string]> => {
    if (PROFILE === '1') return [[scenario, 'BENCH_SERVER_PROFILE=1']];
    const ours = findAggregate(aggregates, scenario.id, 'ours');
    const published = findAggregate(aggregates, scenario.id, 'published');
    if (scenario.id === target.scenario && !target.pass) return [[scenario, 'the target was missed']];
    if (ours.deliveriesPerSec < published.deliveriesPerSec) {
      return [[scenario, 'ours delivers less than the published server here']];
    }
    return [];
  });
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  await mkdir(RESULTS_DIR, { recursive: true });
  // Profiles of an earlier run would be mistaken for this run's.
  for (const name of await readdir(RESULTS_DIR)) {
    if (/^server-ours-.*\.cpuprofile$/.test(name)) await rm(join(RESULTS_DIR, name));
  }
  const started = performance.now();
  const loadavgStart = os.loadavg()[0] ?? 0;
  const cpus = os.cpus();
  log(
    `server bench: ${SCENARIOS.length} scenarios x ${SERVERS.length} servers x ${ROUNDS} rounds, ${WARMUP_MS} ms warm-up + ${WINDOW_MS} ms window each`,
  );

  const measured = new Map<string, Measured[]>();
  const runs: RunResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [index, scenario] of SCENARIOS.entries()) {
      const shift = (round - 1 + index) % SERVERS.length;
      const order = [...SERVERS.slice(shift), ...SERVERS.slice(0, shift)];
      for (const server of order) {
        const run = await measure(server.id, scenario, round);
        const r = run.result;
        log(
          `round ${round} ${scenario.label.padEnd(21)} ${server.label.padEnd(16)} ${int(r.deliveriesPerSec).padStart(8)} deliveries/s ${int(r.acksPerSec).padStart(7)} acks/s p50 ${ms(r.p50Ms)} ms p99 ${ms(r.p99Ms)} ms ${num(r.cpuUsPerDelivery, 2)} µs/delivery server CPU ${percent(r.serverCpuShare)} load-gen CPU ${percent(r.clientCpuShare)}${r.problems.length > 0 ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`,
        );
        runs.push(r);
        const key = `${scenario.id}/${server.id}`;
        measured.set(key, [...(measured.get(key) ?? []), run]);
      }
    }
  }

  const aggregates: Aggregate[] = [];
  for (const scenario of SCENARIOS) {
    for (const server of SERVERS) {
      aggregates.push(aggregate(scenario.id, server.id, measured.get(`${scenario.id}/${server.id}`) ?? []));
    }
  }
  const target = evaluateTarget(aggregates);
  const profiles: ProfileResult[] = [];
  for (const [scenario, reason] of scenariosToProfile(aggregates, target)) {
    const profile = await profileOurs(scenario, reason);
    if (profile) profiles.push(profile);
  }

  const uncommittedSrc = git(['status', '--porcelain', '--', 'packages/server/src'])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3));
  const json: ServerBenchJson = {
    benchmark: 'server',
    date: new Date().toISOString(),
    runSeconds: (performance.now() - started) / 1000,
    machine: {
      cpuModel: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      loadavgStart,
      loadavgEnd: os.loadavg()[0] ?? 0,
    },
    source: { commit: git(['rev-parse', '--short', 'HEAD']), uncommittedSrc },
    config: { warmupMs: WARMUP_MS, windowMs: WINDOW_MS, rounds: ROUNDS },
    servers: SERVERS,
    scenarios: SCENARIOS,
    aggregates,
    runs,
    target,
    profiles,
  };
  const markdown = renderMarkdown(json);
  await writeFile(join(RESULTS_DIR, 'server.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(RESULTS_DIR, 'server.md'), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
  log(`wrote ${join(RESULTS_DIR, 'server.md')} and server.json`);
}

main()
  .catch((error: unknown) => {
    log(`server bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(killAllChildren);
