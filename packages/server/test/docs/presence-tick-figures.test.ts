/**
 * The fan-out figures of docs/big-rooms.md ("What a tick costs") are the
 * table `npm run bench:presence-tick` last wrote, so the page cannot drift
 * from the committed result.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const RESULT = new URL('../../bench/results/presence-tick.md', import.meta.url);
const PAGE = new URL('../../../../docs/big-rooms.md', import.meta.url);

describe('[docs] docs/big-rooms.md presence tick figures', () => {
  it('[docs][R1] the fan-out table is the one bench/results/presence-tick.md holds', () => {
    const table = readFileSync(RESULT, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .join('\n');
    expect(table.split('\n')).toHaveLength(5); // header, rule, 250, 500, 1,000
    expect(readFileSync(PAGE, 'utf8')).toContain(table);
  });
});
