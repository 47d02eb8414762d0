/**
 * The soak clients' document mirrors: patches received applied to a
 * key-to-component map as the server applies them (SPEC D2-D6), plus the
 * per-actor seeds and small random choices the actors make. The oracle's
 * model of the server's document is the one {@link ReferenceDoc}.
 */
import { isDeepStrictEqual } from 'node:util';
import { isDelta, naiveApplyBufferDelta, type ReferenceDoc } from '../reference-doc.js';

export type Frame = Record<string, unknown>;
export type Component = Record<string, unknown>;
/** A patch: key to partial component. */
export type Patch = Record<string, Component>;
/** A document state: key to component (a tombstone is `{ _exists: false }`). */
export type DocState = Map<string, Component>;

/** A seed of its own for each actor, so choices do not depend on how actors interleave. */
export function childSeed(seed: number, label: string): number {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

export function int(rng: () => number, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/**
 * A soak client's mirror: applies the patches it receives in order with the
 * document rules (SPEC D2-D6), keeping tombstones so that the mirror compares
 * with the oracle's {@link ReferenceDoc} (`components()`), which is the model
 * of the server's document; this is what a client rebuilds from replies and
 * broadcasts, checked against it. A deletion
 * leaves a tombstone, a write to a live key merges fields, only a write with
 * `_exists: true` starts a fresh component at an absent or deleted key (D5,
 * anything else there changes nothing). Field values are never
 * mutated (a buffer delta makes a new array), so states may share them.
 */
export function applyPatches(state: DocState, patches: readonly Patch[]): void {
  for (const patch of patches) {
    for (const [key, data] of Object.entries(patch)) {
      if (data._exists === false) {
        state.set(key, { _exists: false });
        continue;
      }
      const previous = state.get(key);
      const live = previous !== undefined && previous._exists !== false;
      if (!live && data._exists !== true) continue;
      const next: Component = live ? { ...previous } : {};
      for (const [field, value] of Object.entries(data)) {
        next[field] = isDelta(value) ? naiveApplyBufferDelta(next[field], value) : value;
      }
      state.set(key, next);
    }
  }
}

/** Ephemeral merge (SPEC E1, E3): like {@link applyPatches}, but a deletion forgets the key. */
export function applyEphemeral(state: DocState, patches: readonly Patch[]): void {
  for (const patch of patches) {
    for (const [key, data] of Object.entries(patch)) {
      const previous = state.get(key);
      if (data._exists === false) state.delete(key);
      else if (previous || data._exists === true) state.set(key, { ...(previous ?? {}), ...data });
    }
  }
}

/** A copy that can be changed without touching `state` (components copied, values shared). */
export function cloneState(state: DocState): DocState {
  const copy: DocState = new Map();
  for (const [key, component] of state) copy.set(key, { ...component });
  return copy;
}

/** Keys whose components differ, described for a failure message (at most `limit`). */
export function diffStates(expected: DocState, actual: DocState, limit = 5): string[] {
  const out: string[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(key);
    const got = actual.get(key);
    if (isDeepStrictEqual(want, got)) continue;
    out.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  const total = out.length;
  return total > limit ? [...out.slice(0, limit), `... ${total - limit} more`] : out;
}

export function patchesOf(frame: Frame, field: 'documentPatches' | 'ephemeralPatches'): Patch[] {
  const value = frame[field];
  return Array.isArray(value) ? (value as Patch[]) : [];
}
