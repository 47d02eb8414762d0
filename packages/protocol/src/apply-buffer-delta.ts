import type { BufferDelta } from './messages.js';

/**
 * Materialises a buffer delta against the stored value (SPEC D6): keep the first
 * `min(len, base.length)` entries of the stored array (none if it is not an
 * array), pad with 0 up to `len`, then write every run, skipping positions
 * outside `[0, len)`. The delta must already be validated.
 *
 * @example
 * ```ts
 * applyBufferDelta([1, 2, 3], { __buf: 1, len: 4, runs: [[3, [9]]] }); // [1, 2, 3, 9]
 * ```
 */
export function applyBufferDelta(base: unknown, delta: BufferDelta): number[] {
  const { len } = delta;
  const out = new Array<number>(len);
  const previous = Array.isArray(base) ? (base as unknown[]) : undefined;
  const carried = previous ? Math.min(previous.length, len) : 0;
  for (let i = 0; i < carried; i++) {
    const v = previous?.[i];
    out[i] = typeof v === 'number' ? v : 0;
  }
  out.fill(0, carried);
  for (const [offset, values] of delta.runs) {
    const end = Math.min(len, offset + values.length);
    for (let i = Math.max(0, offset); i < end; i++) out[i] = values[i - offset] as number;
  }
  return out;
}
