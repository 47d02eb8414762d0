import type { CanvasStoreClient } from 'canvas-store-client';
import { allShapeFields, type Shape, shapeFields, shapeKey } from './shape-model.js';

/** One shape going from `before` to `after` (`null`: absent, i.e. created or deleted). */
export interface ShapeChange {
  id: string;
  before: Shape | null;
  after: Shape | null;
}

function samePoints(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((value, i) => value === b[i]);
}

/**
 * Writes `change` to the document through the client, like any edit:
 * - to `null`: deletes the shape (if it is still there);
 * - from `null`: creates the shape with all its fields in one write, which
 *   the client sends with `_exists: true` (SPEC D5: only such a write creates);
 * - otherwise: writes only the fields that differ between `before` and
 *   `after`, so a concurrent edit of other fields by someone else survives.
 *   A shape someone else deleted meanwhile stays deleted (D5 would ignore the
 *   write anyway; writing it here would show a partial shape until resync).
 *
 * Returns whether anything was written.
 */
export function applyShapeChange(client: CanvasStoreClient, change: ShapeChange): boolean {
  const key = shapeKey(change.id);
  const { before, after } = change;
  const present = client.get(key) !== undefined;
  if (after === null) {
    if (!present) return false;
    client.delete(key);
    return true;
  }
  if (before === null || !present) {
    if (before !== null) return false;
    client.set(key, allShapeFields(after));
    return true;
  }
  const from = shapeFields(before);
  const to = shapeFields(after);
  const changed: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(to)) if (from[name] !== value) changed[name] = value;
  let wrote = false;
  if (Object.keys(changed).length > 0) {
    client.set(key, changed);
    wrote = true;
  }
  if (after.points && !samePoints(before.points, after.points)) {
    client.setArray(key, 'points', [...after.points]);
    wrote = true;
  }
  return wrote;
}

/** True when `change` leaves the shape as it was (e.g. a drag that came back to its start). */
export function changesNothing(change: ShapeChange): boolean {
  const { before, after } = change;
  if (before === null || after === null) return before === after;
  const from = shapeFields(before);
  const to = shapeFields(after);
  const names = new Set([...Object.keys(from), ...Object.keys(to)]);
  for (const name of names) if (from[name] !== to[name]) return false;
  return samePoints(before.points, after.points);
}

/** The change that undoes `change`. */
export function invertChange(change: ShapeChange): ShapeChange {
  return { id: change.id, before: change.after, after: change.before };
}
