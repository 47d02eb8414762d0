import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { needlessTombstones } from '../harness/differential/mutants.js';
import { runSchedule } from '../harness/differential/run-schedule.js';
import { scheduleArb } from '../harness/differential/traffic.js';
import { recordFigures, scaled } from '../harness/reliability-harness.js';

/**
 * The differential suite (issue 10): seeded schedules of traffic the published
 * client could send, run against our `Room` and the published server's `Room`
 * side by side. Any difference of effect fails, and fast-check shrinks it to
 * a minimal schedule. Short in `npm test`; thousands under CANVAS_TEST_LONG=1.
 */
describe('differential: our Room against the published Room', () => {
  it(
    '[D1][D2][D3][D4][D5][D6][D7][A1][A2][A3][E1][E2][E3] every schedule has the same effect on both servers',
    () => {
      const runs = scaled(300, 5_000);
      const totals = { schedules: 0, frames: 0, reconnects: 0, presenceBugs: 0, leadingTombstoneCases: 0 };
      fc.assert(
        fc.property(scheduleArb(scaled(25, 40)), (ops) => {
          const outcome = runSchedule(ops);
          totals.schedules++;
          totals.frames += outcome.frames;
          totals.reconnects += outcome.reconnects;
          totals.presenceBugs += outcome.presenceBugs;
          totals.leadingTombstoneCases += outcome.leadingTombstoneCases;
          expect(outcome.differences).toEqual([]);
        }),
        { numRuns: runs, seed: 0x10d1ff, endOnFailure: false },
      );
      recordFigures('differential', { ...totals, runs });
      expect(totals.reconnects).toBeGreaterThan(runs);
    },
    scaled(60_000, 1_800_000),
  );

  it('[D7] the suite catches needless leading tombstones (issue 10) and shrinks them to a short schedule', () => {
    const result = fc.check(
      fc.property(scheduleArb(25), (ops) => runSchedule(ops, needlessTombstones).differences.length === 0),
      { numRuns: 300, seed: 0x10d1ff },
    );
    expect(result.failed).toBe(true);
    expect(result.counterexample?.[0].length).toBeLessThanOrEqual(5);
  });
});
