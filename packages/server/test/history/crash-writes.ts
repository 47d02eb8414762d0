import type { Patch } from '../../src/index.js';

/** The write that makes clock `clock` of the crash test: creations, edits and deletions over 20 keys. */
export function crashWrite(clock: number): Patch {
  const key = `k${clock % 20}`;
  if (clock % 7 === 0) return { [key]: { _exists: false } };
  return { [key]: { _exists: true, v: clock }, [`k${(clock * 3) % 20}`]: { _exists: true, w: clock } };
}
