/**
 * Big-room benchmark (`npm run bench:bigroom`, builds first; `-- --quick` for a
 * ~2-minute smoke run, `-- --help` for every flag): one room with 250, 500 and
 * 1,000 connected clients, 10% moving cursors at 20 Hz (ephemeral-only
 * patches carrying their send time), 1% writing shapes at 2 Hz, after a join
 * storm (every client joins within 10 s). Three servers in the same run, each
 * in its own process, loaded by separate load-generator processes over
 * loopback: ours with presence coalescing (default tick), ours without
 * (`--presence-tick-ms 0`) and the published server 2.0.2. A build without
 * `--presence-tick-ms` has no coalescing: the coalesced variant is then
 * skipped and "ours, no coalescing" is today's server.
 *
 * Writes bench/results/bigroom.json and bigroom.md; unless --quick (or
 * --no-docs), also results/big-rooms-bench.svg and the figures block of
 * docs/performance.md. The goal is printed as MET / NOT MET, never asserted.
 * `--from-results` renders those outputs again from the last bigroom.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BigRoomConfig, parseConfig, USAGE, type VariantId } from './bigroom/config.js';
import { oursHasPresenceTick } from './bigroom/processes.js';
import {
  type BigRoomJson,
  docsBlock,
  goalVerdict,
  KEEPS_UP_TEXT,
  loadTable,
  overTimeChart,
  resultsTable,
  variantLabel,
  withDocsBlock,
} from './bigroom/report.js';
import { type RunResult, runVariant } from './bigroom/run-variant.js';
import { CLI, killAllChildren, WORKSPACE_ROOT } from './lib/child-processes.js';
import { writeSvg } from './report/charts.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const DOCS_DIR = join(WORKSPACE_ROOT, 'docs');
const CHART_FILE = 'big-rooms-bench.svg';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The default `--presence-tick-ms` stated in the CLI's help. */
function defaultTickMs(): number | null {
  const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  const match = /--presence-tick-ms[\s\S]*?default (\d+)/.exec(help);
  return match?.[1] ? Number(match[1]) : null;
}

function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', 'packages/server/src'], {
        cwd: WORKSPACE_ROOT,
        encoding: 'utf8',
      }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** The tick to pass per variant (undefined: no flag), or null when the variant cannot run here. */
function tickFlag(variant: VariantId, hasTick: boolean): number | undefined | null {
  if (variant === 'published') return undefined;
  if (variant === 'ours-coalesced') return hasTick ? undefined : null;
  return hasTick ? 0 : undefined;
}

/** Runs every scenario and variant. */
async function measure(config: BigRoomConfig): Promise<BigRoomJson> {
  const started = performance.now();
  const hasTick = oursHasPresenceTick();
  const tickMs = hasTick ? defaultTickMs() : null;
  log(
    hasTick
      ? `our server coalesces presence (default tick ${tickMs ?? '?'} ms)`
      : 'this build of our server has no --presence-tick-ms: skipping the coalesced variant; "ours, no coalescing" is today\'s server',
  );
  const runs: RunResult[] = [];
  const failures: BigRoomJson['failures'] = [];
  for (const [round, size] of config.sizes.entries()) {
    // Rotate the order per size so that no variant always runs first on a cooler machine.
    const order = config.variants.map(
      (_, i) => config.variants[(i + round) % config.variants.length] as VariantId,
    );
    for (const variant of order) {
      const tick = tickFlag(variant, hasTick);
      if (tick === null) continue;
      log(`${size} clients, ${variantLabel(variant, tickMs)}`);
      try {
        const run = await runVariant(variant, size, config, tick, log);
        runs.push(run);
        log(
          `  ${Math.round(run.cursorUpdatesPerSec)} cursor updates/s, delay p50 ${run.delayP50Ms.toFixed(1)} / p99 ${run.delayP99Ms.toFixed(1)} ms, server CPU ${run.serverCpuShare.toFixed(2)} cores, keeps up: ${run.keepsUp}`,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`  FAILED: ${message}`);
        failures.push({ variant, size, error: message.slice(0, 2000) });
        killAllChildren();
      }
    }
  }
  const json: BigRoomJson = {
    benchmark: 'bigroom',
    date: new Date().toISOString(),
    runSeconds: Math.round((performance.now() - started) / 1000),
    machine: { cpuModel: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
    source: gitState(),
    config,
    presenceTickMs: tickMs,
    runs,
    failures,
  };
  return json;
}

/** Writes the result files and, when asked, the chart and the docs block. */
async function writeOutputs(json: BigRoomJson, writeDocs: boolean): Promise<void> {
  const { config, failures, runs } = json;
  await mkdir(RESULTS_DIR, { recursive: true });
  const goal = goalVerdict(json);
  const markdown = [
    '# Big-room benchmark',
    '',
    `${json.date}, ${json.machine.cores} x ${json.machine.cpuModel}, Node ${json.machine.node}, commit ${json.source.commit}${json.source.dirty ? ' (uncommitted server changes)' : ''}; ${config.quick ? 'quick mode; ' : ''}${json.runSeconds} s in all.`,
    '',
    `Goal: ${goal.text}`,
    '',
    resultsTable(json),
    '',
    KEEPS_UP_TEXT,
    '',
    'The load generator in each run:',
    '',
    loadTable(json),
    ...(failures.length
      ? [
          '',
          'Failed runs:',
          ...failures.map((f) => `- ${f.size} clients, ${f.variant}: ${f.error.split('\n')[0]}`),
        ]
      : []),
    '',
  ].join('\n');
  if (!fromResults) await writeFile(join(RESULTS_DIR, 'bigroom.json'), `${JSON.stringify(json, null, 1)}\n`);
  await writeFile(join(RESULTS_DIR, 'bigroom.md'), markdown);
  log(`\n${markdown}`);
  if (writeDocs && runs.length > 0) {
    await writeSvg(overTimeChart(json), join(RESULTS_DIR, CHART_FILE));
    const page = join(DOCS_DIR, 'performance.md');
    await writeFile(
      page,
      withDocsBlock(
        await readFile(page, 'utf8'),
        docsBlock(json, `../packages/server/bench/results/${CHART_FILE}`),
      ),
    );
    log(`wrote results/${CHART_FILE} and the big-room block of docs/performance.md`);
  }
}

/** Renders the outputs again from the last results/bigroom.json, without measuring. */
const fromResults = process.argv.includes('--from-results');

async function main(config: BigRoomConfig): Promise<void> {
  if (fromResults) {
    const json = JSON.parse(await readFile(join(RESULTS_DIR, 'bigroom.json'), 'utf8')) as BigRoomJson;
    await writeOutputs(json, true);
    return;
  }
  await writeOutputs(await measure(config), config.writeDocs);
}

let config: BigRoomConfig;
try {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  config = parseConfig(process.argv.slice(2).filter((arg) => arg !== '--from-results'));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
main(config).then(
  () => {
    killAllChildren();
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    killAllChildren();
    process.exit(1);
  },
);
