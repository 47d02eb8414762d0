/** What a client learns of others' presence from the frames it received (presence abuse tests). */
import type { Frame } from '../server-process.js';

/** The ephemeral key of mover `mover`'s cursor. */
export const cursorKey = (mover: number): string => `mover-${mover}/Cursor`;

/** The ephemeral state a client ends up with: every ephemeral patch it received, merged in order. */
export function presenceOf(frames: readonly Frame[]): Map<string, Record<string, unknown>> {
  const state = new Map<string, Record<string, unknown>>();
  for (const frame of frames) {
    if (frame.type !== 'patch') continue;
    for (const patch of (frame.ephemeralPatches as Record<string, Record<string, unknown>>[]) ?? []) {
      for (const [key, value] of Object.entries(patch)) {
        if (value._exists === false) state.delete(key);
        else state.set(key, { ...(state.get(key) ?? {}), ...value });
      }
    }
  }
  return state;
}
