/**
 * Output of the big-room benchmark: the markdown table, the goal verdict, the
 * over-time chart (Vega-Lite rendered to SVG) and the docs/performance.md section.
 */
import type { TopLevelSpec } from 'vega-lite';
import { table } from '../server/format.js';
import type { BigRoomConfig, VariantId } from './config.js';
import type { RunResult } from './run-variant.js';
import { backlogBytes, KEEPS_UP } from './stats.js';

/** The machine-readable result file (bench/results/bigroom.json). */
export interface BigRoomJson {
  benchmark: 'bigroom';
  date: string;
  runSeconds: number;
  machine: { cpuModel: string; cores: number; node: string };
  source: { commit: string; dirty: boolean };
  config: BigRoomConfig;
  /** Our server's presence tick in the coalesced variant (null when this build has no coalescing). */
  presenceTickMs: number | null;
  runs: RunResult[];
  /** Runs that failed, with the error. */
  failures: Array<{ variant: VariantId; size: number; error: string }>;
}

/** Labels of the variants in tables and charts. */
export function variantLabel(variant: VariantId, tickMs: number | null): string {
  switch (variant) {
    case 'ours-coalesced':
      return `ours, coalesced (${tickMs ?? '?'} ms tick)`;
    case 'ours-uncoalesced':
      return 'ours, no coalescing';
    case 'published':
      return 'published 2.0.2';
  }
}

const COLORS: Record<VariantId, string> = {
  'ours-coalesced': '#1f77b4',
  'ours-uncoalesced': '#9ecae1',
  published: '#ff7f0e',
};

/** `value` with `digits` decimals; 'n/a' for NaN (stored as null in the JSON file). */
const fixed = (value: number | null, digits: number): string =>
  typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
const int = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
const msText = (value: number): string =>
  !Number.isFinite(value) ? 'n/a' : value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
const bytesText = (value: number): string => {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1 << 20) return `${(value / (1 << 20)).toFixed(1)} MiB`;
  if (value >= 1 << 10) return `${(value / (1 << 10)).toFixed(0)} KiB`;
  return `${Math.round(value)} B`;
};

const signedMiB = (bytes: number): string =>
  Number.isFinite(bytes) ? `${bytes < 0 ? '−' : '+'}${Math.abs(bytes / (1 << 20)).toFixed(0)} MiB` : 'n/a';

/** The results table, one row per run. */
export function resultsTable(json: BigRoomJson): string {
  const rows = json.runs.map((run) => [
    int(run.size),
    variantLabel(run.variant, json.presenceTickMs),
    `${int(run.cursorUpdatesPerSec)} (${fixed(run.deliveredShare * 100, 0)}%)`,
    `${msText(run.delayP50Ms)} / ${msText(run.delayP99Ms)} ms`,
    `${fixed(run.serverCpuShare, 2)} (${fixed(run.serverWaitShare * 100, 0)}% wait)`,
    fixed(run.serverCpuUsPerUpdate, 2),
    bytesText(run.rssPerSessionBytes),
    `${bytesText(run.backlog.first)} → ${bytesText(run.backlog.last)}; RSS ${signedMiB(run.rssTrend.last - run.rssTrend.first)}`,
    run.keepsUp ? 'yes' : '**no**',
    `${msText(run.join.p99Ms)} ms, all in ${fixed(run.join.stormMs / 1000, 1)} s${run.join.failures ? ` (${run.join.failures} failed)` : ''}`,
  ]);
  return table(
    [
      'clients',
      'server',
      'cursor updates delivered/s (of n²)',
      'p50 / p99 delay',
      'server CPU, cores (CPU wait)',
      'CPU µs / update',
      'RSS / session',
      'backlog first → last third; RSS growth',
      'keeps up',
      'join storm: p99 join',
    ],
    rows,
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'right'],
  );
}

/** What the load generator did in each run: the load it offered and whether it kept up itself. */
export function loadTable(json: BigRoomJson): string {
  const rows = json.runs.map((run) => [
    int(run.size),
    variantLabel(run.variant, json.presenceTickMs),
    `${int(run.cursorsSentPerSec)} / ${int(run.movers * json.config.cursorHz)}`,
    int(run.lateTicks),
    fixed(run.workersCpuShare, 2),
    fixed(run.loadavg, 1),
    int(run.shapeDeliveriesPerSec),
    Object.entries(run.closes)
      .map(([code, n]) => `${n} x ${code}`)
      .join(', ') || 'none',
  ]);
  return table(
    [
      'clients',
      'server',
      'cursor moves sent/s (planned)',
      'late mover ticks',
      'load generators CPU, cores',
      'load average',
      'shape broadcasts received/s',
      'sockets closed by the server',
    ],
    rows,
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

/** The issue's goal, judged on the largest room of the run. */
export function goalVerdict(json: BigRoomJson): { met: boolean; text: string } {
  const size = Math.max(...json.runs.map((run) => run.size));
  const find = (variant: VariantId) => json.runs.find((run) => run.size === size && run.variant === variant);
  const ours = find('ours-coalesced');
  const published = find('published');
  if (!ours || json.presenceTickMs === null) {
    return {
      met: false,
      text: `NOT MET: no coalesced run of our server at ${size} clients (coalescing not in this build or the run failed).`,
    };
  }
  const limit = json.presenceTickMs + 100;
  // NaN (no arrivals) is stored as null in the JSON file; neither passes.
  const oursOk = ours.keepsUp && Number.isFinite(ours.delayP99Ms) && ours.delayP99Ms < limit;
  const publishedBehind = published ? !published.keepsUp : false;
  const parts = [
    `ours (coalesced) ${ours.keepsUp ? 'keeps up' : 'falls behind'}, p99 cursor delay ${msText(ours.delayP99Ms)} ms (limit ${limit} ms: one tick + 100 ms)`,
    published
      ? `published 2.0.2 ${published.keepsUp ? 'keeps up' : 'falls behind'} (median delay ${msText(published.delayTrend.first)} → ${msText(published.delayTrend.last)} ms, backlog ${bytesText(published.backlog.first)} → ${bytesText(published.backlog.last)})`
      : 'no published run',
  ];
  const met = oursOk && publishedBehind;
  return { met, text: `${met ? 'MET' : 'NOT MET'} at ${size} clients: ${parts.join('; ')}.` };
}

/** How "keeps up" is decided, for the reader of the table. */
export const KEEPS_UP_TEXT = `"Delay": from a mover's send to a plain receiver's arrival, over every cursor update 8 probe clients per load-generator process received. "CPU wait": share of the window the server's main thread was runnable but waiting for a CPU (other jobs share the machine). "Keeps up": over the measured window, the backlog (bytes in the server's socket write buffers plus the kernel's queues on its loopback connections) ends under ${KEEPS_UP.backlogFloorBytes >> 20} MiB or under ${KEEPS_UP.backlogGrowth}x its first third, and the server's RSS grows by less than ${KEEPS_UP.rssGrowthBytes >> 20} MiB (frames a server queues in its own memory show only there), and the median cursor delay of the last third is under ${KEEPS_UP.delayFloorMs} ms or under ${KEEPS_UP.delayGrowth}x that of the first third (a third with no arrivals at all fails).`;

/** Chart: median cursor delay and backlog over time, one column per room size. */
export function overTimeChart(json: BigRoomJson): TopLevelSpec {
  const variants = [...new Set(json.runs.map((run) => run.variant))];
  const values = json.runs.flatMap((run) =>
    run.samples.flatMap((sample) => [
      {
        size: `${run.size} clients`,
        variant: run.variant,
        t: sample.t,
        metric: 'median cursor delay (ms)',
        value: sample.delayP50Ms,
      },
      {
        size: `${run.size} clients`,
        variant: run.variant,
        t: sample.t,
        metric: 'backlog (KiB)',
        value: backlogBytes(sample) / 1024,
      },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'One big room: cursor delay and backlog over time',
      subtitle: `10% of clients move cursors at ${json.config.cursorHz} Hz, 1% write shapes at ${json.config.writeHz} Hz; t = 0 starts the measured window (symlog y)`,
    },
    data: { values: values.filter((v) => Number.isFinite(v.value)) },
    facet: {
      row: {
        field: 'metric',
        type: 'nominal',
        title: null,
        sort: ['median cursor delay (ms)', 'backlog (KiB)'],
      },
      column: {
        field: 'size',
        type: 'nominal',
        title: null,
        sort: json.config.sizes.map((s) => `${s} clients`),
      },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 220,
      height: 150,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { type: 'symlog' } },
        color: {
          field: 'variant',
          type: 'nominal',
          title: 'Server',
          scale: { domain: variants, range: variants.map((v) => COLORS[v]) },
          legend: {
            orient: 'bottom',
            labelLimit: 320,
            labelExpr: variants.reduceRight(
              (otherwise, v) =>
                `datum.value === ${JSON.stringify(v)} ? ${JSON.stringify(variantLabel(v, json.presenceTickMs))} : ${otherwise}`,
              'datum.value',
            ),
          },
        },
      },
    },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** Markers of the big-room section in docs/performance.md. */
export const DOC_START = '<!-- bigroom-figures:start -->';
export const DOC_END = '<!-- bigroom-figures:end -->';

/** The figures block of docs/performance.md. */
export function docsBlock(json: BigRoomJson, chartPath: string): string {
  const goal = goalVerdict(json);
  return [
    DOC_START,
    `Last run: ${json.date.slice(0, 10)}, \`npm run bench:bigroom\`${json.config.quick ? ' --quick' : ''} (${json.machine.cores} cores shared by the server and ${json.config.workers} load-generator processes; join storm ${json.config.joinStormMs / 1000} s, warm-up ${json.config.warmupMs / 1000} s, measured ${json.config.measureMs / 1000} s per run).`,
    '',
    `**Goal** (1,000-client room keeps up, p99 cursor delay < one tick + 100 ms, published server falling behind): ${goal.text}`,
    '',
    resultsTable(json),
    '',
    KEEPS_UP_TEXT,
    '',
    `![Median cursor delay and backlog over time](${chartPath})`,
    DOC_END,
  ].join('\n');
}

/** `page` with its big-room block replaced by `block` (appended under a heading when absent). */
export function withDocsBlock(page: string, block: string): string {
  const start = page.indexOf(DOC_START);
  const end = page.indexOf(DOC_END);
  if (start !== -1 && end > start)
    return `${page.slice(0, start)}${block}${page.slice(end + DOC_END.length)}`;
  return `${page.trimEnd()}\n\n${block}\n`;
}
