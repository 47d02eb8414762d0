/** The markdown report of the core benchmark (results/core.md). */
import os from 'node:os';
import { IMPLS, OURS, PUBLISHED } from '../lib/impls.js';
import { type Align, formatMs, formatNumber, formatRatio, markdownTable } from '../lib/table.js';
import type { ImplId } from './config.js';
import type { Measurement, Row } from './measurement.js';

/** A row of timings (lower is better). */
export function timeRow(metric: string, results: Record<ImplId, Measurement>): Row {
  return { metric, better: 'lower', format: formatMs, words: ['faster', 'slower'], results };
}

/** Rows of the Spread table: reps, median, min and max per implementation. */
export function sampleDetails(metric: string, results: Record<ImplId, Measurement>): string[][] {
  return IMPLS.map((impl) => {
    const result = results[impl.id];
    if (!result.ok || !result.samples) return [metric, impl.id, '-', 'n/a', '-', '-'];
    const { samples } = result;
    return [
      metric,
      impl.id,
      String(samples.reps),
      formatMs(samples.median),
      formatMs(samples.min),
      formatMs(samples.max),
    ];
  });
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

/** A measured value formatted, or n/a. */
export function cell(result: Measurement, format: (value: number) => string): string {
  return result.ok ? format(result.value) : 'n/a';
}

function verdict(row: Row): { ratio: string; verdict: string } {
  const ours = row.results.ours;
  const published = row.results.published;
  if (!ours.ok || !published.ok || published.value === 0) return { ratio: 'n/a', verdict: 'n/a' };
  const ratio = ours.value / published.value;
  const factor = row.better === 'higher' ? ratio : 1 / ratio;
  const [better, worse] = row.words;
  const text =
    factor >= 1 ? `ours ${formatFactor(factor)} ${better}` : `ours ${formatFactor(1 / factor)} ${worse}`;
  return { ratio: formatRatio(ratio), verdict: text };
}

function formatFactor(factor: number): string {
  if (factor >= 100) return `${formatNumber(factor)}x`;
  if (factor >= 10) return `${factor.toFixed(1)}x`;
  return `${factor.toFixed(2)}x`;
}

function reasons(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    for (const impl of IMPLS) {
      const result = row.results[impl.id];
      if (!result.ok) lines.push(`n/a for ${impl.id}, "${row.metric}": ${result.reason}`);
    }
  }
  return lines;
}

/** What the report is made of. */
export interface ReportInput {
  rows: readonly Row[];
  details: string[][];
  targets: readonly string[];
  notes: readonly string[];
  /** performance.now() at the start of the run. */
  started: number;
  loadAtStart: number;
}

/** The whole markdown report. */
export function renderReport(input: ReportInput): string {
  const { rows, details, targets, notes, started, loadAtStart } = input;
  const align: Align[] = ['left', 'right', 'right', 'right', 'left', 'left'];
  const tableText = markdownTable(
    ['Metric', 'ours', 'published', 'ours/published', 'better is', 'verdict'],
    rows.map((row) => {
      const { ratio, verdict: text } = verdict(row);
      return [
        row.metric,
        cell(row.results.ours, row.format),
        cell(row.results.published, row.format),
        ratio,
        row.better === 'higher' ? 'higher' : 'lower',
        text,
      ];
    }),
    align,
  );
  const detailTable = markdownTable(['Metric', 'impl', 'reps', 'median', 'min', 'max'], details, [
    'left',
    'left',
    'right',
    'right',
    'right',
    'right',
  ]);

  const elapsed = (performance.now() - started) / 1000;
  const cpus = os.cpus();
  const report = [
    '# Core benchmark: ours vs published',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Node: ${process.version} (${process.platform}/${process.arch})`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'} x ${cpus.length}`,
    `- ours: ${OURS.label}, built from this workspace; published: ${PUBLISHED.label}`,
    `- Run time: ${elapsed.toFixed(1)} s; 1-minute load average ${loadAtStart.toFixed(2)} at start, ` +
      `${(os.loadavg()[0] ?? 0).toFixed(2)} at end (other processes on the machine add noise)`,
    '',
    'ours/published is the ratio of the two numbers; "better is" says which direction wins for that row.',
    '',
    tableText,
    '',
    '## Targets',
    '',
    ...targets,
    '',
    '## Spread',
    '',
    detailTable,
    '',
    '## Notes',
    '',
    ...notes.map((note) => `- ${note}`),
    ...reasons(rows).map((line) => `- ${line}`),
    '',
  ].join('\n');
  return report;
}
