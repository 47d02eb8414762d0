/** A measured value per implementation and a row of the core report. */
import type { Samples } from '../lib/measure.js';
import type { ImplId } from './config.js';

/** A measured value, or the reason it could not be measured. */
export type Measurement = { ok: true; value: number; samples?: Samples } | { ok: false; reason: string };

/** A successful measurement. */
export function measured(value: number, samples?: Samples): Measurement {
  return samples ? { ok: true, value, samples } : { ok: true, value };
}

/** A measurement that could not be made, with the reason. */
export function notAvailable(reason: string): Measurement {
  return { ok: false, reason };
}

/** One metric of the main table, for both implementations. */
export interface Row {
  metric: string;
  better: 'higher' | 'lower';
  format: (value: number) => string;
  /** Words for "ours is better" and "ours is worse". */
  words: [string, string];
  results: Record<ImplId, Measurement>;
}

/** Progress goes to stderr; stdout carries the report. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
