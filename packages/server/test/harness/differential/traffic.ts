import fc from 'fast-check';
import type { BufferDelta, BufferRun, ComponentData, Patch } from '../../../src/index.js';
import { type MirrorState, mergePatches } from './client-mirror.js';

/**
 * Seeds of the traffic the published client can send, kept as small integers
 * so that fast-check can shrink a failing schedule. {@link Schedule} turns them
 * into frames against the state of the run, so every frame is one the client
 * could have sent from the world it held.
 */

/** The keys every schedule writes to: few, so that writes race and collide. */
const DOC_KEYS = ['e0/Shape', 'e1/Shape', 'e2/Shape', 'SINGLETON/Doc'] as const;
/** Client ids: sessions of one id are tabs of one client. */
export const CLIENT_IDS = ['c0', 'c1', 'c2'] as const;

/** One edit of one key. */
interface EditSeed {
  key: number;
  /** 0 create (whole, `_exists: true`), 1-2 edit a field, 3 buffer delta, 4 delete. */
  kind: number;
  value: number;
}

/** One step of a schedule. */
export interface OpSeed {
  /** 0-4 patch, 5 connect, 6 close, 7-8 reconnect. */
  kind: number;
  who: number;
  pick: number;
  flag: number;
  edits: EditSeed[];
  /** Edits flushed right after a reconnect, before its reply is pulled. */
  later: EditSeed[];
}

const editArb: fc.Arbitrary<EditSeed> = fc.record({
  key: fc.nat({ max: DOC_KEYS.length - 1 }),
  kind: fc.nat({ max: 4 }),
  value: fc.integer({ min: 0, max: 9 }),
});

const opArb: fc.Arbitrary<OpSeed> = fc.record({
  kind: fc.nat({ max: 8 }),
  who: fc.nat({ max: 7 }),
  pick: fc.nat({ max: 1000 }),
  flag: fc.nat({ max: 5 }),
  edits: fc.array(editArb, { minLength: 1, maxLength: 3 }),
  later: fc.array(editArb, { maxLength: 2 }),
});

/** A schedule: a handful of sessions writing, closing and reconnecting. */
export function scheduleArb(maxOps: number): fc.Arbitrary<OpSeed[]> {
  return fc.array(opArb, { minLength: 1, maxLength: maxOps });
}

/**
 * Encodes `next` against `prev` as the client does for buffer fields: the new
 * length and one run per stretch of changed entries.
 */
function encodeDelta(prev: readonly number[] | undefined, next: readonly number[]): BufferDelta {
  const runs: BufferRun[] = [];
  let run: BufferRun | null = null;
  for (let i = 0; i < next.length; i++) {
    const changed = prev === undefined || i >= prev.length || prev[i] !== next[i];
    if (!changed) {
      run = null;
      continue;
    }
    if (run === null) {
      run = [i, []];
      runs.push(run);
    }
    run[1].push(next[i] as number);
  }
  return { __buf: 1, len: next.length, runs };
}

function numbers(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'number') ? (value as number[]) : undefined;
}

/**
 * The patch one frame carries for `edits`, made against `world` (what the
 * author holds): creates send the whole component with `_exists: true`, edits
 * of a component the author holds send changed fields, buffer fields travel as
 * deltas, deletions as `{ _exists: false }`. With `stale`, edits may also
 * target a component the author still holds but the room deleted meanwhile.
 */
export function patchFor(edits: readonly EditSeed[], world: MirrorState, stale: boolean): Patch {
  const local = structuredClone(world);
  const parts: Patch[] = [];
  for (const edit of edits) {
    const key = DOC_KEYS[edit.key] as string;
    const held = local[key];
    let part: ComponentData | null = null;
    if (edit.kind === 0 || (held === undefined && !stale)) {
      part = { _exists: true, a: edit.value, b: edit.value + 1, p: [edit.value, 0, edit.value] };
      local[key] = { a: edit.value, b: edit.value + 1, p: [edit.value, 0, edit.value] };
    } else if (edit.kind === 4) {
      part = { _exists: false };
      delete local[key];
    } else if (edit.kind === 3) {
      const prev = numbers(held?.p);
      const next = [...(prev ?? [])];
      next[edit.value % 4] = edit.value;
      for (let i = 0; i < next.length; i++) next[i] ??= 0;
      if (edit.value % 3 === 0) next.length = Math.max(1, next.length - 1);
      part = { p: encodeDelta(prev, next) };
      if (held) held.p = next;
    } else {
      const field = edit.kind === 1 ? 'a' : 'b';
      part = { [field]: edit.value * 10 + edit.kind };
      if (held) held[field] = part[field];
    }
    parts.push({ [key]: part });
  }
  return mergePatches(...parts);
}

/** The ephemeral patch for an edit of the author's cursor. */
export function cursorPatch(clientId: string, edit: EditSeed, holds: boolean): Patch {
  const key = `cursor/${clientId}`;
  if (edit.kind === 4) return { [key]: { _exists: false } };
  if (!holds || edit.kind === 0) return { [key]: { _exists: true, x: edit.value, y: edit.key } };
  return { [key]: { x: edit.value } };
}
