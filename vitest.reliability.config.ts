import { defineConfig } from 'vitest/config';

/**
 * The reliability suites (issue 6): soak, chaos, fuzzing, storage faults, slow
 * clients. Each loads the machine on purpose, so they run one file at a time,
 * after the other tests, and do not disturb each other's measurements.
 * `CANVAS_TEST_LONG=1` (npm run test:long) selects their long versions.
 */
export default defineConfig({
  test: {
    include: ['packages/server/test/reliability/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
