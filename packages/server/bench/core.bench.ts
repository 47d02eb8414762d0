/**
 * Core benchmark: our library against the published server
 * (`@woven-ecs/canvas-store-server@2.0.2`) on identical, pre-serialized
 * workloads, in one process. Run with `npm run bench:core` (needs `--expose-gc`).
 *
 * Prints a markdown report and writes it to `bench/results/core.md`.
 * This is a report: nothing here fails on slow numbers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { BUILD_PER_FRAME, CHANGED_KEYS, HEAP_SIZE, type ImplId, SIZES } from './core/config.js';
import { log, type Measurement, type Row } from './core/measurement.js';
import { cell, renderReport, sampleDetails, timeRow } from './core/report.js';
import { measureSize, type SizeResult, sizeWorkload } from './core/sizes.js';
import { benchThroughput } from './core/throughput.js';
import { canForceGc, forceGc } from './lib/measure.js';
import { formatMs, formatNumber, formatRatio } from './lib/table.js';

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (!canForceGc())
    log('warning: global.gc is not available (run node with --expose-gc); heap rows will be n/a');
  const notes: string[] = [];
  const rows: Row[] = [];
  const details: string[][] = [];

  const throughput = benchThroughput(notes);
  rows.push(throughput.row);
  details.push(...throughput.details);

  const bySize = new Map<number, SizeResult>();
  for (const size of SIZES) {
    log(`[2/2] room of ${formatNumber(size)} shapes: generating frames...`);
    bySize.set(size, measureSize(sizeWorkload(size)));
    forceGc();
  }
  const pick = (size: number, field: 'recent' | 'full' | 'snapshot' | 'heap'): Record<ImplId, Measurement> =>
    (bySize.get(size) as SizeResult)[field];
  for (const size of SIZES) {
    const metric = `Recent reconnect (${CHANGED_KEYS} changes), N=${formatNumber(size)}`;
    rows.push(timeRow(metric, pick(size, 'recent')));
    details.push(...sampleDetails(metric, pick(size, 'recent')));
  }
  for (const size of SIZES) {
    const metric = `Full reconnect (lastTimestamp 0), N=${formatNumber(size)}`;
    rows.push(timeRow(metric, pick(size, 'full')));
    details.push(...sampleDetails(metric, pick(size, 'full')));
  }
  for (const size of SIZES) {
    const metric = `getSnapshot(), N=${formatNumber(size)}`;
    rows.push(timeRow(metric, pick(size, 'snapshot')));
    details.push(...sampleDetails(metric, pick(size, 'snapshot')));
  }
  for (const size of SIZES) {
    rows.push({
      metric: `Heap per component (bytes), N=${formatNumber(size)}${size === HEAP_SIZE ? '' : ' (extra)'}`,
      better: 'lower',
      format: (value) => formatNumber(value),
      words: ['smaller', 'larger'],
      results: pick(size, 'heap'),
    });
  }

  const targets: string[] = [];
  const recent100k = pick(HEAP_SIZE, 'recent');
  targets.push(
    recent100k.ours.ok
      ? `- Recent reconnect < 1 ms at N=${formatNumber(HEAP_SIZE)}: ${recent100k.ours.value < 1 ? 'MET' : 'NOT MET'} ` +
          `(ours ${formatMs(recent100k.ours.value)}, published ${cell(recent100k.published, formatMs)})`
      : `- Recent reconnect < 1 ms at N=${formatNumber(HEAP_SIZE)}: NOT MEASURED (${recent100k.ours.reason})`,
  );
  const tp = throughput.row.results;
  targets.push(
    tp.ours.ok && tp.published.ok
      ? `- Patch apply at least as fast as published: ${tp.ours.value >= tp.published.value ? 'MET' : 'NOT MET'} ` +
          `(ours ${formatNumber(tp.ours.value)} frames/s, published ${formatNumber(tp.published.value)} frames/s, ` +
          `ratio of medians ${formatRatio(tp.ours.value / tp.published.value)}, median of per-round ratios ` +
          `${throughput.pairedRatio === null ? 'n/a' : formatRatio(throughput.pairedRatio)})`
      : '- Patch apply at least as fast as published: NOT MEASURED (see n/a reasons)',
  );

  for (const size of SIZES) {
    const results = bySize.get(size) as SizeResult;
    notes.push(
      `N=${formatNumber(size)}: built from ${formatNumber(size / BUILD_PER_FRAME)} frames of ${formatNumber(BUILD_PER_FRAME)} ` +
        `new 8-field shapes (build took ${formatMs(results.buildMs.ours)} in ours, ${formatMs(results.buildMs.published)} in published), ` +
        `then ${CHANGED_KEYS} frames changing one field each; the recent reconnect asks for everything after the clock before ` +
        `those ${CHANGED_KEYS} (reply keys: ours ${results.recentReplyKeys.ours ?? 'n/a'}, published ` +
        `${results.recentReplyKeys.published ?? 'n/a'}). Every reply is parsed and checked before and after the ` +
        'measured repetitions; the two rooms are measured interleaved, run by run.',
    );
  }
  notes.push(
    'Timings include JSON parsing of the incoming frame and JSON serialization of the reply, as a real socket would need. ' +
      'Heap per component = (heapUsed after building - heapUsed before) / N, each after a forced full GC, in a fresh room ' +
      'with the other implementation dropped (rooms for the timings are built again afterwards); the pre-serialized frames exist before the first reading and are not counted.',
    'Configuration: ours runs with its per-session rate limits raised (its defaults, 100 frames/s with a burst of 300, ' +
      'would close the writer about 300 frames into the stream, SPEC B4; the token buckets still run); the published ' +
      'server runs with `new Room({})`, which has no such limits. Everything else is default.',
  );

  const report = renderReport({ rows, details, targets, notes, started, loadAtStart });

  process.stdout.write(`\n${report}`);
  const outDir = new URL('./results/', import.meta.url);
  await mkdir(outDir, { recursive: true });
  const outFile = new URL('core.md', outDir);
  await writeFile(outFile, report);
  log(`\nwritten to ${outFile.pathname}`);
}

await main();
