/**
 * Benchmark report: reads what the benchmarks wrote under bench/results/
 * (core.md, storage.md, server.md and server.json), draws charts as SVG files
 * next to them (Vega-Lite, rendered headlessly) and writes
 * bench/results/REPORT.md with the machine, the targets, the charts and every
 * table of the three benchmarks, and rewrites the figures block of
 * docs/performance.md with each benchmark's targets. Missing result files are
 * reported as such.
 *
 * Run with `node --import tsx packages/server/bench/report.ts` (the last step of
 * `npm run bench`); `--docs-only` rewrites only the docs/performance.md block.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { type GroupedDatum, groupedBars, horizontalBars, writeSvg } from './report/charts.js';
import { demoteHeadings, findTable, leadingNumber, parseTables } from './report/markdown.js';
import {
  dateOf,
  PERFORMANCE_DOC,
  RESULTS_DIR,
  readBenchResults,
  renderBenchBlock,
  SECTIONS,
  targetSections,
  withBenchBlock,
} from './report/targets.js';
import type { Aggregate, ServerBenchJson } from './server/results.js';

interface Chart {
  file: string;
  alt: string;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** `352k`, `1.2M`, `950`. */
function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

async function serverCharts(json: ServerBenchJson): Promise<Chart[]> {
  const scenarioLabel = (id: string) => json.scenarios.find((s) => s.id === id)?.label ?? id;
  const serverLabel = (id: string) => json.servers.find((s) => s.id === id)?.label ?? id;
  const groupOrder = json.scenarios.map((s) => s.label);
  const seriesOrder = json.servers.map((s) => s.id);
  const seriesLabels = json.servers.map((s) => s.label);
  const subtitle = `median of ${json.config.rounds} rounds of ${json.config.windowMs / 1000} s; ${json.machine.cores} cores shared by server and load generator`;
  const datum = (a: Aggregate, value: number, label: string, facet?: string): GroupedDatum => ({
    group: scenarioLabel(a.scenario),
    series: a.server,
    seriesLabel: serverLabel(a.server),
    value,
    label,
    ...(facet === undefined ? {} : { facet }),
  });
  const common = { groupTitle: 'Scenario', groupOrder, seriesOrder, seriesLabels, subtitle };
  const charts: Array<Chart & { spec: ReturnType<typeof groupedBars> }> = [
    {
      file: 'server-deliveries.svg',
      alt: 'Deliveries per second per scenario and server',
      spec: groupedBars(
        json.aggregates.map((a) => datum(a, a.deliveriesPerSec, compact(a.deliveriesPerSec))),
        {
          ...common,
          title: 'Deliveries/s (broadcast frames received; higher is better)',
          yTitle: 'deliveries/s',
        },
      ),
    },
    {
      file: 'server-cpu-per-delivery.svg',
      alt: 'Server CPU microseconds per delivery per scenario and server',
      spec: groupedBars(
        json.aggregates.map((a) => datum(a, a.cpuUsPerDelivery, a.cpuUsPerDelivery.toFixed(2))),
        { ...common, title: 'Server CPU per delivery (µs; lower is better)', yTitle: 'CPU µs / delivery' },
      ),
    },
    {
      file: 'server-ack-latency.svg',
      alt: 'Ack latency p50 and p99 per scenario and server',
      spec: groupedBars(
        json.aggregates.flatMap((a) => [
          datum(a, a.p50Ms, a.p50Ms.toFixed(a.p50Ms < 10 ? 1 : 0), 'p50'),
          datum(a, a.p99Ms, a.p99Ms.toFixed(a.p99Ms < 10 ? 1 : 0), 'p99'),
        ]),
        {
          ...common,
          title: 'Ack latency, send to ack (ms; lower is better)',
          yTitle: 'ms',
          facetOrder: ['p50', 'p99'],
        },
      ),
    },
    {
      file: 'server-acks.svg',
      alt: 'Acked writes per second per scenario and server',
      spec: groupedBars(
        json.aggregates.map((a) => datum(a, a.acksPerSec, compact(a.acksPerSec))),
        { ...common, title: 'Acked writes/s (higher is better)', yTitle: 'acks/s' },
      ),
    },
  ];
  for (const chart of charts) await writeSvg(chart.spec, join(RESULTS_DIR, chart.file));
  return charts.map(({ file, alt }) => ({ file, alt }));
}

async function storageCharts(markdown: string): Promise<Chart[]> {
  const found = findTable(parseTables(markdown), [/^Backend$/, /^Acked writes\/s/]);
  if (!found) {
    log('storage.md: no table with Backend and Acked writes/s columns; no storage chart');
    return [];
  }
  const [backend, writes] = found.columns as [number, number];
  const data = found.table.rows
    .map((row) => ({ name: row[backend] ?? '', value: leadingNumber(row[writes] ?? '') }))
    .filter((d) => Number.isFinite(d.value))
    .map((d) => ({
      ...d,
      label: Math.round(d.value).toLocaleString('en-US'),
      color: d.name.includes('published') ? '#ff7f0e' : '#1f77b4',
    }));
  if (data.length === 0) return [];
  const file = 'storage-acked-writes.svg';
  await writeSvg(
    horizontalBars(data, {
      title: 'Storage: sustained acked writes/s, 10 closed-loop clients (higher is better)',
      subtitle: 'from results/storage.md',
      xTitle: 'acked writes/s',
    }),
    join(RESULTS_DIR, file),
  );
  return [{ file, alt: 'Acked writes per second per storage backend' }];
}

async function coreCharts(markdown: string): Promise<Chart[]> {
  const found = findTable(parseTables(markdown), [/^Metric$/, /^ours\/published$/, /^better is$/]);
  if (!found) {
    log('core.md: no table with Metric, ours/published and better-is columns; no core chart');
    return [];
  }
  const [metric, ratioColumn, better] = found.columns as [number, number, number];
  const data = found.table.rows
    .map((row) => {
      const ratio = leadingNumber(row[ratioColumn] ?? '');
      const speedup = (row[better] ?? '').startsWith('lower') ? 1 / ratio : ratio;
      return { name: row[metric] ?? '', value: speedup };
    })
    .filter((d) => Number.isFinite(d.value) && d.value > 0)
    .map((d) => ({
      ...d,
      label: `${d.value >= 10 ? Math.round(d.value).toLocaleString('en-US') : d.value.toFixed(2)}x`,
      color: d.value >= 1 ? '#2ca02c' : '#d62728',
    }));
  if (data.length === 0) return [];
  const file = 'core-advantage.svg';
  await writeSvg(
    horizontalBars(data, {
      title: 'Core: how many times better ours is than published (log scale; > 1 = ours better)',
      subtitle: 'from results/core.md (ratio of the two numbers, oriented by "better is")',
      xTitle: 'ours advantage (x)',
      log: true,
      rule: 1,
    }),
    join(RESULTS_DIR, file),
  );
  return [{ file, alt: 'Advantage of ours over the published implementation per core metric' }];
}

function chartMarkdown(charts: Chart[]): string[] {
  return charts.flatMap((chart) => [`![${chart.alt}](${chart.file})`, '']);
}

async function main(): Promise<void> {
  const bench = readBenchResults();
  const results = bench.markdown;
  const serverJson = bench.serverJson;
  const performanceBlock = renderBenchBlock(bench);
  await writeFile(PERFORMANCE_DOC, withBenchBlock(await readFile(PERFORMANCE_DOC, 'utf8'), performanceBlock));
  log(`wrote the figures block of ${PERFORMANCE_DOC}`);
  if (process.argv.includes('--docs-only')) return;
  const cpus = os.cpus();

  const charts = new Map<string, Chart[]>();
  const core = results.get('core.md');
  const storage = results.get('storage.md');
  charts.set('core.md', core ? await coreCharts(core) : []);
  charts.set('storage.md', storage ? await storageCharts(storage) : []);
  charts.set('server.md', serverJson ? await serverCharts(serverJson) : []);

  const out: string[] = [];
  out.push('# Benchmark report', '');
  out.push(`- Generated: ${new Date().toISOString()}`);
  out.push(
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} (${process.platform}/${process.arch})`,
  );
  out.push(`- Node: ${process.version}`);
  out.push(
    `- 1-minute load average when this report was generated: ${(os.loadavg()[0] ?? 0).toFixed(2)} (each benchmark records its own at run time; other processes on the machine add noise)`,
  );
  out.push('- Result files:');
  for (const section of SECTIONS) {
    const markdown = results.get(section.file);
    out.push(
      markdown
        ? `  - [${section.file}](${section.file}): ${section.title.toLowerCase()}, run ${dateOf(markdown)} (\`${section.command}\`)`
        : `  - ${section.file}: missing; run \`${section.command}\``,
    );
  }
  if (serverJson) out.push('  - [server.json](server.json): the server benchmark, machine-readable');
  out.push('');

  out.push('## Targets', '', ...targetSections(bench, '###'));

  for (const section of SECTIONS) {
    const markdown = results.get(section.file);
    out.push(`## ${section.title}`, '');
    if (!markdown) {
      out.push(`Not run: results/${section.file} is missing (\`${section.command}\`).`, '');
      continue;
    }
    out.push(`From [${section.file}](${section.file}), reproduced below.`, '');
    const sectionCharts = charts.get(section.file) ?? [];
    if (sectionCharts.length > 0) out.push('### Charts', '', ...chartMarkdown(sectionCharts));
    // The result file's own title becomes redundant under this section's heading.
    out.push(demoteHeadings(markdown.replace(/^# .*\n+/, '')).trimEnd(), '');
  }

  const path = join(RESULTS_DIR, 'REPORT.md');
  await writeFile(path, `${out.join('\n')}\n`);
  const chartCount = [...charts.values()].reduce((sum, list) => sum + list.length, 0);
  log(`wrote ${path} with ${chartCount} charts`);
}

main().catch((error: unknown) => {
  log(`report failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
