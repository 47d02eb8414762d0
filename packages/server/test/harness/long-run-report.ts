/**
 * Composes the figures the reliability suites recorded in a long run
 * (`npm run test:long`, results/long/*.json) into `LAST-LONG-RUN.md` and
 * `last-long-run.json` in reliability/, and rewrites the figures block of
 * docs/reliability.md between its markers.
 *
 * Run by `npm run test:long` after the suites pass; `--check` only verifies
 * that the docs/reliability.md block matches `last-long-run.json` (used by a docs test).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One suite's recorded figures, as `recordFigures` wrote them. */
interface SuiteResult {
  suite: string;
  mode: string;
  finishedAt: string;
  figures: Record<string, unknown>;
}

/** The long run as committed in `last-long-run.json`. */
export interface LongRun {
  finishedAt: string;
  suites: SuiteResult[];
}

/** The reliability suites' folder: their results, and the long run's report beside them. */
const HERE = new URL('../reliability/', import.meta.url);
const RESULTS = fileURLToPath(new URL('results/long/', HERE));
export const LONG_RUN_JSON = fileURLToPath(new URL('last-long-run.json', HERE));
const LONG_RUN_MD = fileURLToPath(new URL('LAST-LONG-RUN.md', HERE));
/** The page whose figures block this rewrites. */
export const RELIABILITY_DOC = fileURLToPath(new URL('../../../../docs/reliability.md', HERE));
const BLOCK_START = '<!-- reliability-figures:start -->';
const BLOCK_END = '<!-- reliability-figures:end -->';

/** The order suites are reported in; others follow alphabetically. */
const ORDER = ['soak', 'chaos', 'fuzz', 'storage-faults', 'database-outage', 'slow-clients', 'properties'];

function readResults(): SuiteResult[] {
  if (!existsSync(RESULTS)) throw new Error(`no long-run results in ${RESULTS}: run npm run test:long`);
  const results = readdirSync(RESULTS)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(`${RESULTS}${name}`, 'utf8')) as SuiteResult)
    .filter((result) => result.mode === 'long');
  const rank = (suite: string) => (ORDER.includes(suite) ? ORDER.indexOf(suite) : ORDER.length);
  return results.sort((a, b) => rank(a.suite) - rank(b.suite) || a.suite.localeCompare(b.suite));
}

function numberOf(run: LongRun, suite: string, figure: string): number | undefined {
  const value = run.suites.find((s) => s.suite === suite)?.figures[figure];
  return typeof value === 'number' ? value : undefined;
}

function sumOf(run: LongRun, figure: string): number {
  let sum = 0;
  for (const suite of run.suites) {
    const value = suite.figures[figure];
    if (typeof value === 'number') sum += value;
  }
  return sum;
}

/**
 * A figure for a table cell: numbers with thousands separators, long number
 * series summarised (count, first, last, min, max), objects as `key: value`
 * pairs, everything else as compact JSON.
 */
function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? value.toLocaleString('en-US')
      : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 6 && value.every((v) => typeof v === 'number')) {
    const numbers = value as number[];
    const summary = {
      samples: numbers.length,
      first: numbers[0],
      last: numbers.at(-1),
      min: Math.min(...numbers),
      max: Math.max(...numbers),
    };
    return formatValue(summary);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value)
      .map(([key, nested]) => `${key}: ${formatValue(nested)}`)
      .join('; ');
  }
  if (Array.isArray(value)) return value.map((item) => `(${formatValue(item)})`).join(' ');
  return `\`${JSON.stringify(value)}\``;
}

const MIB = 1024 * 1024;
const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / MIB).toFixed(1)} MiB`);
const minutes = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 60_000).toFixed(1)} min`);

/** A figure nested one level down (for example `heapAfterGc.first`), if it is a number. */
function nestedNumberOf(run: LongRun, suite: string, figure: string, field: string): number | undefined {
  const value = run.suites.find((s) => s.suite === suite)?.figures[figure];
  if (value === null || typeof value !== 'object') return undefined;
  const nested = (value as Record<string, unknown>)[field];
  return typeof nested === 'number' ? nested : undefined;
}

/**
 * Acked writes whose presence a suite checked after its faults: the soak's and
 * chaos run's acked writes, the storage suites' verified acked operations, and
 * the fuzzing bystanders' acked writes.
 */
function ackedWritesChecked(run: LongRun): number {
  return (
    (numberOf(run, 'soak', 'writesAcked') ?? 0) +
    (numberOf(run, 'chaos', 'ackedWrites') ?? 0) +
    (numberOf(run, 'storage-faults', 'ackedOperationsVerified') ?? 0) +
    (numberOf(run, 'database-outage', 'ackedOperationsVerified') ?? 0) +
    (numberOf(run, 'fuzz', 'bystanderWritesAcked') ?? 0)
  );
}

/** The docs/reliability.md block: the headline figures of the last long run. */
export function renderFiguresBlock(run: LongRun): string {
  const count = (value: number | undefined) => formatValue(value ?? 0);
  const storageFaults = numberOf(run, 'storage-faults', 'faultsInjected') ?? 0;
  const outages = numberOf(run, 'database-outage', 'faultsInjected') ?? 0;
  const kills = numberOf(run, 'chaos', 'serverKills') ?? 0;
  const lines = [
    BLOCK_START,
    `Last long run (\`npm run test:long\`, finished ${run.finishedAt.slice(0, 16).replace('T', ' ')} UTC on the 2-core shared machine; every figure in [LAST-LONG-RUN.md](../packages/server/test/reliability/LAST-LONG-RUN.md)):`,
    '',
    '| | |',
    '| --- | --- |',
    `| load held (soak) | ${minutes(numberOf(run, 'soak', 'durationMs'))}: ${count(numberOf(run, 'soak', 'ackRatePerSecond'))} acked writes/s, ${count(numberOf(run, 'soak', 'ephemeralUpdates'))} cursor updates, ${count(numberOf(run, 'soak', 'churnConnections'))} connections come and go, ${count(numberOf(run, 'soak', 'peakClients'))} clients at peak |`,
    `| heap after GC (soak) | ${mib(nestedNumberOf(run, 'soak', 'heapAfterGc', 'first'))} at the start, ${mib(nestedNumberOf(run, 'soak', 'heapAfterGc', 'last'))} at the end |`,
    `| faults injected | ${count(storageFaults + outages + kills)}: ${count(storageFaults)} storage failures and hangs, ${count(outages)} database outages, ${count(kills)} server SIGKILLs |`,
    `| frames fuzzed | ${count(numberOf(run, 'fuzz', 'framesFuzzed'))} (${mib(numberOf(run, 'fuzz', 'bytesFuzzed'))}), process deaths ${count(numberOf(run, 'fuzz', 'processDeaths'))} |`,
    `| slow and vanished clients dropped | ${count(numberOf(run, 'slow-clients', 'slowReadersDropped'))} slow readers, ${count(numberOf(run, 'slow-clients', 'vanishedClientsDropped'))} vanished peers |`,
    `| acked writes checked | ${count(ackedWritesChecked(run))} |`,
    `| acked writes lost | ${count(sumOf(run, 'ackedWritesLost'))} |`,
    BLOCK_END,
  ];
  return lines.join('\n');
}

/** The full report: every suite's figures. */
export function renderReport(run: LongRun): string {
  const parts = [
    '# Last long reliability run',
    '',
    `Written by \`npm run test:long\` (finished ${run.finishedAt} UTC). Each table holds what one suite recorded with \`recordFigures\`.`,
    '',
  ];
  for (const suite of run.suites) {
    parts.push(
      `## ${suite.suite}`,
      '',
      `Finished ${suite.finishedAt}.`,
      '',
      '| figure | value |',
      '| --- | --- |',
    );
    for (const [name, value] of Object.entries(suite.figures)) {
      // A seed is an identifier to replay with, not a quantity.
      parts.push(`| ${name} | ${name === 'seed' ? String(value) : formatValue(value)} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}

/** The page with its figures block replaced by `block`. */
export function withFiguresBlock(page: string, block: string): string {
  const start = page.indexOf(BLOCK_START);
  const end = page.indexOf(BLOCK_END);
  if (start < 0 || end < start)
    throw new Error(`docs/reliability.md has no ${BLOCK_START} ... ${BLOCK_END} block`);
  return page.slice(0, start) + block + page.slice(end + BLOCK_END.length);
}

/** Text with the formatter's table padding taken out, so a formatted page still compares equal. */
export function normalize(markdown: string): string {
  return markdown.replace(/ {2,}/g, ' ').replace(/-{3,}/g, '---');
}

function main(): void {
  if (process.argv.includes('--check')) {
    const run = JSON.parse(readFileSync(LONG_RUN_JSON, 'utf8')) as LongRun;
    const page = readFileSync(RELIABILITY_DOC, 'utf8');
    if (normalize(withFiguresBlock(page, renderFiguresBlock(run))) !== normalize(page)) {
      throw new Error('the docs/reliability.md figures do not match last-long-run.json');
    }
    return;
  }
  const suites = readResults();
  const finishedAt =
    suites
      .map((s) => s.finishedAt)
      .sort()
      .at(-1) ?? new Date().toISOString();
  const run: LongRun = { finishedAt, suites };
  writeFileSync(LONG_RUN_JSON, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(LONG_RUN_MD, renderReport(run));
  writeFileSync(
    RELIABILITY_DOC,
    withFiguresBlock(readFileSync(RELIABILITY_DOC, 'utf8'), renderFiguresBlock(run)),
  );
  console.log(renderFiguresBlock(run));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
