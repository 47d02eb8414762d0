/**
 * The targets of the last benchmark run (the PASS/FAIL lines of each result
 * file, and the server benchmark's ratio target) and the figures block of
 * docs/performance.md built from them. Shared by report.ts, which writes both
 * REPORT.md and that block, and by the docs test that keeps the block in step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerBenchJson } from '../server/results.js';

/** Where the benchmarks write their results. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
/** The page whose figures block the report rewrites. */
export const PERFORMANCE_DOC = fileURLToPath(new URL('../../../../docs/performance.md', import.meta.url));
const BENCH_BLOCK_START = '<!-- bench-figures:start -->';
const BENCH_BLOCK_END = '<!-- bench-figures:end -->';

/** One benchmark and its result file. */
interface Section {
  file: string;
  title: string;
  command: string;
}

export const SECTIONS: Section[] = [
  { file: 'core.md', title: 'Core benchmark', command: 'npm run bench:core' },
  { file: 'storage.md', title: 'Storage benchmark', command: 'npm run bench:storage' },
  { file: 'server.md', title: 'Server load benchmark', command: 'npm run bench:server' },
];

/** What the benchmarks wrote: each section's markdown (null when missing) and server.json. */
interface BenchResults {
  markdown: Map<string, string | null>;
  serverJson: ServerBenchJson | null;
}

/** Reads the committed result files. */
export function readBenchResults(dir = RESULTS_DIR): BenchResults {
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
  const markdown = new Map(SECTIONS.map((section) => [section.file, read(section.file)] as const));
  const serverJsonText = read('server.json');
  return { markdown, serverJson: serverJsonText ? (JSON.parse(serverJsonText) as ServerBenchJson) : null };
}

/** The `- Date:` line of a result file. */
export function dateOf(markdown: string): string {
  return /^- Date: (.+)$/m.exec(markdown)?.[1]?.trim() ?? 'unknown date';
}

/** The PASS/FAIL/MET lines of a result file (its targets). */
function targetLines(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => /^\s*- .*\b(PASS|FAIL|MET|MISSED|NOT MET)\b/.test(line) && !line.startsWith('  '));
}

/** The target lines of each benchmark, under a heading per benchmark of the given level. */
export function targetSections(results: BenchResults, heading: string): string[] {
  const out: string[] = [];
  for (const section of SECTIONS) {
    const markdown = results.markdown.get(section.file);
    const lines = markdown ? targetLines(markdown) : [];
    out.push(`${heading} ${section.title}`, '');
    if (section.file === 'server.md' && results.serverJson) {
      const t = results.serverJson.target;
      out.push(
        `- **${t.pass ? 'PASS' : 'FAIL'}** (1 room x 50 clients, ours persisting to SQLite): deliveries/s ours ${Math.round(t.oursDeliveriesPerSec).toLocaleString('en-US')} vs published ${Math.round(t.publishedDeliveriesPerSec).toLocaleString('en-US')} = ${t.deliveriesRatio.toFixed(2)}x (target >= ${t.minDeliveriesRatio}x, ${t.deliveriesPass ? 'met' : 'missed'}); CPU per delivery ours ${t.oursCpuUsPerDelivery.toFixed(2)} µs vs published ${t.publishedCpuUsPerDelivery.toFixed(2)} µs = ${Math.round(t.cpuRatio * 100)}% (target <= ${Math.round(t.maxCpuRatio * 100)}%, ${t.cpuPass ? 'met' : 'missed'})`,
      );
    } else if (lines.length > 0) {
      out.push(...lines);
    } else {
      out.push(markdown ? '- (no target lines in the result file)' : '- (not run)');
    }
    out.push('');
  }
  return out;
}

/** The figures block of docs/performance.md: when each benchmark last ran, and its targets. */
export function renderBenchBlock(results: BenchResults): string {
  const runs = SECTIONS.map((section) => {
    const markdown = results.markdown.get(section.file);
    return `\`${section.command}\` ${markdown ? dateOf(markdown).slice(0, 10) : 'not run'}`;
  });
  return [
    BENCH_BLOCK_START,
    `Targets of the last runs (${runs.join(', ')}; every table and chart in [REPORT.md](../packages/server/bench/results/REPORT.md)):`,
    '',
    ...targetSections(results, '###'),
    BENCH_BLOCK_END,
  ].join('\n');
}

/** The page with its figures block replaced by `block`. */
export function withBenchBlock(page: string, block: string): string {
  const start = page.indexOf(BENCH_BLOCK_START);
  const end = page.indexOf(BENCH_BLOCK_END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${BENCH_BLOCK_START} block`);
  return page.slice(0, start) + block + page.slice(end + BENCH_BLOCK_END.length);
}
