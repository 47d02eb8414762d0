/**
 * Timing and heap helpers for the benchmarks. Nothing here asserts anything:
 * the benchmarks only report what they measure.
 */

/** Summary of repeated timings, in milliseconds. */
export interface Samples {
  reps: number;
  median: number;
  min: number;
  max: number;
}

/** How many times to run a timed section. */
export interface SampleOptions {
  /** Untimed runs before measuring (JIT warm-up). */
  warmup: number;
  /** Measured runs at least, whatever the budget. */
  minReps: number;
  /** Measured runs at most. */
  maxReps: number;
  /** Stop adding runs (after `minReps`) once this much wall time went into measured runs. */
  budgetMs: number;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median, min and max of a non-empty list of durations. */
function summarize(durations: readonly number[]): Samples {
  return {
    reps: durations.length,
    median: median(durations),
    min: Math.min(...durations),
    max: Math.max(...durations),
  };
}

/** Runs `fn` once and returns how long it took, in ms. */
export function timeIt(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** True when the process was started with `--expose-gc`. */
export function canForceGc(): boolean {
  return typeof globalThis.gc === 'function';
}

/** Runs full garbage collections (a no-op without `--expose-gc`). */
export function forceGc(): void {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return;
  gc();
  gc();
}

/** `heapUsed` right after a forced full GC, in bytes. */
export function settledHeapUsed(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}

/**
 * Repeats several contenders' timed runs (each does its own untimed setup and
 * returns the duration of its timed section, in ms), alternating between them
 * run by run so that changing machine load hits all of them alike. Each one
 * stops on its own `options`; the others carry on.
 */
export function sampleInterleaved(runs: readonly (() => number)[], options: SampleOptions): Samples[] {
  for (let i = 0; i < options.warmup; i++) for (const run of runs) run();
  const durations = runs.map((): number[] => []);
  const spent = runs.map(() => 0);
  const done = (index: number): boolean => {
    const count = (durations[index] as number[]).length;
    return (
      count >= options.minReps && (count >= options.maxReps || (spent[index] as number) >= options.budgetMs)
    );
  };
  while (runs.some((_, index) => !done(index))) {
    runs.forEach((run, index) => {
      if (done(index)) return;
      const duration = run();
      (durations[index] as number[]).push(duration);
      spent[index] = (spent[index] as number) + duration;
    });
  }
  return durations.map(summarize);
}
