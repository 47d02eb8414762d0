import { defineConfig } from 'vitest/config';

/**
 * The suites that drive real server processes under load: reliability (issue 6:
 * soak, chaos, fuzzing, storage faults, slow clients), abuse (issue 11) and
 * un-steered convergence (issue 10) and the multi-process cluster tests (issue 14). Each loads the machine on purpose, so they run one file at a time,
 * after the other tests, and do not disturb each other's measurements.
 * `CANVAS_TEST_LONG=1` (npm run test:long) selects their long versions.
 */
export default defineConfig({
  test: {
    include: [
      'packages/server/test/reliability/**/*.test.ts',
      'packages/server/test/abuse/**/*.test.ts',
      'packages/server/test/convergence/**/*.test.ts',
      'packages/server/test/cluster/**/*.test.ts',
    ],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
