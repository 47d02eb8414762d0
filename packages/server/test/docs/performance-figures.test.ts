/**
 * The targets block of docs/performance.md is what the benchmark report
 * (bench/report.ts, the last step of `npm run bench`) renders from the
 * committed result files, so the page cannot drift from the last run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PERFORMANCE_DOC,
  readBenchResults,
  renderBenchBlock,
  SECTIONS,
  withBenchBlock,
} from '../../bench/report/targets.js';

describe('[docs] docs/performance.md figures', () => {
  it('[docs] the targets block is the one the report renders from bench/results', () => {
    const page = readFileSync(PERFORMANCE_DOC, 'utf8');
    expect(withBenchBlock(page, renderBenchBlock(readBenchResults()))).toBe(page);
  });

  it('[docs] every benchmark has results to report', () => {
    const results = readBenchResults();
    for (const section of SECTIONS) expect(results.markdown.get(section.file), section.file).not.toBeNull();
    expect(results.serverJson).not.toBeNull();
  });
});
