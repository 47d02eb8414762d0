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
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { CLI, killAllChildren, WORKSPACE_ROOT } from './lib/child-processes.js';
import { int, ms, num, percent } from './server/format.js';
import { renderMarkdown } from './server/markdown.js';
import { profileOurs, scenariosToProfile } from './server/profile-run.js';
import type { Aggregate, ProfileResult, RunResult, ServerBenchJson } from './server/results.js';
import { aggregate, log, type Measured, measure } from './server/run.js';
import { RESULTS_DIR, ROUNDS, SCENARIOS, SERVERS, WARMUP_MS, WINDOW_MS } from './server/scenarios.js';
import { evaluateTarget } from './server/target.js';

function git(args: string[]): string {
  try {
    // Only trailing whitespace: porcelain status lines start with a significant space.
    return execFileSync('git', args, { cwd: WORKSPACE_ROOT, encoding: 'utf8' }).trimEnd();
  } catch {
    return '';
  }
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
