/** Workload sizes and sampling budgets of the core benchmark. */
import type { Impl } from '../lib/impls.js';
import type { SampleOptions } from '../lib/measure.js';

/** The patch stream of the throughput measurement. */
export const THROUGHPUT = { baseComponents: 5_000, frames: 20_000, seed: 42, warmupRounds: 2, rounds: 9 };
/** Room sizes of the reconnect, snapshot and heap measurements. */
export const SIZES = [10_000, 100_000] as const;
/** The size the heap and reconnect targets are judged at. */
export const HEAP_SIZE = 100_000;
/** Shapes per frame while building a room. */
export const BUILD_PER_FRAME = 1_000;
/** Changes after the build that a recent reconnect must receive. */
export const CHANGED_KEYS = 5;

/** Sampling budgets per measurement. */
export const RECENT_RECONNECT: SampleOptions = { warmup: 5, minReps: 9, maxReps: 1_000, budgetMs: 1_500 };
export const FULL_RECONNECT: SampleOptions = { warmup: 2, minReps: 5, maxReps: 200, budgetMs: 2_500 };
export const SNAPSHOT: SampleOptions = { warmup: 2, minReps: 5, maxReps: 200, budgetMs: 2_500 };

/** Which implementation: ours or published. */
export type ImplId = Impl['id'];
