/**
 * The process fuzz run's settings (seed, session count, rooms) and the small
 * helpers its phases share (fuzz-process.test.ts).
 */

import { scaled } from '../reliability-harness.js';
import type { Sample } from '../server-process.js';
import { BYSTANDER_PREFIX } from './fuzz-basics.js';

export const SEED = Number(process.env.CANVAS_FUZZ_SEED ?? 0x5eedf022) >>> 0;
/** Fuzz sessions in all (each sends ~8-60 frames and ends in one of the ways of `Ending`). */
export const SESSIONS = scaled(500, 3_600);
/** Fuzz sessions running at once. */
export const LANES = 10;
export const FUZZED_ROOMS = ['fuzz-a', 'fuzz-b'];
export const OTHER_ROOMS = ['other-a', 'other-b', 'other-c'];
export const BYSTANDER_KEY = `${BYSTANDER_PREFIX}/Tick`;
/** The server's default --max-frame-bytes. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;

export const where = (what: string) => `seed ${SEED} (CANVAS_FUZZ_SEED=${SEED}): ${what}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const count = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** A JSON text with object keys sorted: equal for equal documents whatever the key order. */
export const sum = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0);
export const byLabel = (samples: Sample[], name: string, label: string) =>
  Object.fromEntries(samples.filter((s) => s.name === name).map((s) => [s.labels[label] ?? '', s.value]));
