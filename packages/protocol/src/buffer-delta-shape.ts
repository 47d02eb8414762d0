import type { BufferDelta } from './messages.js';
import { isPlainObject } from './plain-object.js';

/**
 * True when a field value is meant as a buffer delta: an object carrying the
 * `__buf` marker. Such a value must then be a well-formed delta
 * (see {@link checkBufferDelta}); it is never stored as an ordinary object.
 */
export function looksLikeBufferDelta(value: unknown): boolean {
  return isPlainObject(value) && Object.hasOwn(value, '__buf');
}

/**
 * True when a field value is shaped as a buffer delta (`{ __buf: 1, len, runs }`,
 * SPEC D6) with a numeric `len` and an array of `runs`. Safe on values nobody
 * validated (a client's own writes, frames from a server); the client uses it.
 */
export function isBufferDelta(value: unknown): value is BufferDelta {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as { __buf?: unknown }).__buf === 1 &&
    typeof (value as { len?: unknown }).len === 'number' &&
    Array.isArray((value as { runs?: unknown }).runs)
  );
}

/**
 * True for a field value of a validated patch (see {@link checkBufferDelta})
 * that is a buffer delta. It looks only at the marker, because validation
 * already checked the rest; the server uses it on every written field.
 */
export function isValidatedBufferDelta(value: unknown): value is BufferDelta {
  return isPlainObject(value) && value.__buf === 1;
}

/**
 * Checks that `value` is a well-formed buffer delta (SPEC D6, B2): `__buf: 1`,
 * an integer `len` in `[0, maxLength]`, and `runs` of `[offset, values]` with an
 * integer offset, every run inside `[0, len)` and every value a number.
 *
 * @returns `null` when valid, else a message saying what is wrong.
 */
export function checkBufferDelta(value: Record<string, unknown>, maxLength: number): string | null {
  if (value.__buf !== 1) return '__buf must be 1';
  const { len, runs } = value;
  if (typeof len !== 'number' || !Number.isInteger(len) || len < 0) {
    return 'len must be a non-negative integer';
  }
  if (len > maxLength) return `len ${len} exceeds the maximum buffer length ${maxLength}`;
  if (!Array.isArray(runs)) return 'runs must be an array';
  for (const key of Object.keys(value)) {
    if (key !== '__buf' && key !== 'len' && key !== 'runs') return `unexpected property "${key}"`;
  }
  for (let r = 0; r < runs.length; r++) {
    const run: unknown = runs[r];
    if (!Array.isArray(run) || run.length !== 2) return `run ${r} must be [offset, values]`;
    const [offset, values] = run as [unknown, unknown];
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      return `run ${r} offset must be a non-negative integer`;
    }
    if (!Array.isArray(values)) return `run ${r} values must be an array`;
    if (offset + values.length > len) return `run ${r} extends past len ${len}`;
    for (const v of values) {
      if (typeof v !== 'number') return `run ${r} holds a non-number value`;
    }
  }
  return null;
}
