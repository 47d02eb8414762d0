/**
 * The figures of docs/reliability.md are those of the last long run: the block
 * between its markers is what `long-run-report.ts` renders from the committed
 * `last-long-run.json`, and that run lost no acked write.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  LONG_RUN_JSON,
  type LongRun,
  normalize,
  RELIABILITY_DOC,
  renderFiguresBlock,
  renderReport,
  withFiguresBlock,
} from '../harness/long-run-report.js';

const run = JSON.parse(readFileSync(LONG_RUN_JSON, 'utf8')) as LongRun;
const LONG_RUN_MD = fileURLToPath(new URL('../reliability/LAST-LONG-RUN.md', import.meta.url));

describe('[docs] docs/reliability.md figures', () => {
  it('[docs] shows the figures of last-long-run.json', () => {
    const page = readFileSync(RELIABILITY_DOC, 'utf8');
    expect(normalize(withFiguresBlock(page, renderFiguresBlock(run)))).toBe(normalize(page));
    expect(normalize(readFileSync(LONG_RUN_MD, 'utf8'))).toBe(normalize(renderReport(run)));
  });

  it('[docs] the last long run covered every suite and lost no acked write', () => {
    const suites = run.suites.map((suite) => suite.suite);
    for (const suite of ['soak', 'chaos', 'fuzz', 'storage-faults', 'database-outage', 'slow-clients']) {
      expect(suites).toContain(suite);
    }
    for (const suite of run.suites) {
      expect(suite.mode).toBe('long');
      if ('ackedWritesLost' in suite.figures) expect(suite.figures.ackedWritesLost, suite.suite).toBe(0);
    }
  });
});
