import { applyBufferDelta, type BufferDelta, type BufferRun, isBufferDelta } from 'canvas-store-protocol';

// The shape check and the application of a delta (SPEC D6) live in canvas-store-protocol,
// one implementation for server and client; the encoding and composing below are the client's own.

/**
 * Encodes `next` against `prev` for the wire: a buffer delta when it is
 * smaller than the whole array, else a copy of the whole array. Returns `null`
 * when nothing changed.
 *
 * The cost of a delta is counted in numbers sent: every changed value, two per
 * run (offset and bracket overhead) and one for `len`.
 *
 * @example
 * ```ts
 * encodeBufferDelta([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7]); // { __buf: 1, len: 7, runs: [[6, [7]]] }
 * ```
 */
export function encodeBufferDelta(
  prev: readonly number[] | undefined,
  next: readonly number[],
): BufferDelta | number[] | null {
  const prevLen = prev ? prev.length : 0;
  const nextLen = next.length;
  const runs: BufferRun[] = [];
  let changed = 0;
  let i = 0;
  while (i < nextLen) {
    if (i < prevLen && prev?.[i] === next[i]) {
      i++;
      continue;
    }
    const start = i;
    const values: number[] = [];
    while (i < nextLen && (i >= prevLen || prev?.[i] !== next[i])) {
      values.push(next[i] as number);
      i++;
    }
    runs.push([start, values]);
    changed += values.length;
  }
  if (runs.length === 0 && nextLen === prevLen) return null;
  if (prev === undefined || changed + runs.length * 2 + 1 >= nextLen) return Array.from(next);
  return { __buf: 1, len: nextLen, runs };
}

/**
 * One delta with the effect of applying `first` then `second` to any stored
 * value. Positions `first` truncated away and `second` padded back are written
 * as explicit zeros, so the result does not depend on the stored array.
 */
export function composeBufferDeltas(first: BufferDelta, second: BufferDelta): BufferDelta {
  const len = second.len;
  const kept = Math.min(first.len, len);
  const values = new Map<number, number>();
  for (let i = kept; i < len; i++) values.set(i, 0);
  for (const [offset, run] of first.runs) {
    const end = Math.min(kept, offset + run.length);
    for (let i = Math.max(0, offset); i < end; i++) values.set(i, run[i - offset] as number);
  }
  for (const [offset, run] of second.runs) {
    const end = Math.min(len, offset + run.length);
    for (let i = Math.max(0, offset); i < end; i++) values.set(i, run[i - offset] as number);
  }
  const indices = Array.from(values.keys()).sort((a, b) => a - b);
  const runs: BufferRun[] = [];
  let current: BufferRun | undefined;
  let previous = -2;
  for (const index of indices) {
    if (current && index === previous + 1) current[1].push(values.get(index) as number);
    else {
      current = [index, [values.get(index) as number]];
      runs.push(current);
    }
    previous = index;
  }
  return { __buf: 1, len, runs };
}

/**
 * Writes `incoming` over `existing` as one field value: a whole value replaces,
 * a delta applies to a stored array (giving an array) or composes with an
 * earlier delta. `baseIsEmpty` says the component starts fresh, so a delta
 * with nothing before it applies against no array.
 */
export function mergeFieldValue(existing: unknown, incoming: unknown, baseIsEmpty: boolean): unknown {
  if (!isBufferDelta(incoming)) return incoming;
  if (isBufferDelta(existing)) return composeBufferDeltas(existing, incoming);
  if (existing !== undefined || baseIsEmpty) return applyBufferDelta(existing, incoming);
  return incoming;
}
