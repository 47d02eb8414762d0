import { applyBufferDelta, isBufferDelta, mergeFieldValue } from './buffer-delta.js';
import type { ComponentData, Patch } from './protocol.js';

/**
 * A not yet confirmed edit of one key. `data` holds the fields written (buffer
 * deltas allowed), or `{ _exists: false }` for a deletion. `replace` says the
 * key was deleted before these fields were written, so on the wire it is sent
 * as a tombstone followed by the fields: a fresh component (SPEC D4, D5)
 * rather than an update of the old one.
 */
export interface PendingEdit {
  replace: boolean;
  data: ComponentData;
}

/** Unconfirmed edits by key, in the order their keys were first edited. */
export type PendingPatch = Map<string, PendingEdit>;

/** A pending patch as JSON-safe data (for IndexedDB). */
export type SerializedPendingPatch = Array<[key: string, replace: boolean, data: ComponentData]>;

/** True for a deletion (`{ _exists: false }`). */
export function isDeletion(data: ComponentData): boolean {
  return data._exists === false;
}

/** Copies `data` with every buffer delta applied against no array (the fields of a fresh component). */
function materializeFresh(data: ComponentData): ComponentData {
  const out: ComponentData = {};
  for (const field of Object.keys(data)) {
    const value = data[field];
    out[field] = isBufferDelta(value) ? applyBufferDelta(undefined, value) : value;
  }
  return out;
}

/**
 * Combines two edits of one key, `older` first, into one with the same effect
 * on any stored component:
 * - a deletion wins over everything before it;
 * - fields written after a deletion become a fresh component (`replace`), so
 *   nothing of the deleted component comes back (deletion then re-creation);
 * - otherwise fields merge, newer values winning and buffer deltas composing.
 */
export function mergeEdit(older: PendingEdit | undefined, newer: PendingEdit): PendingEdit {
  if (isDeletion(newer.data)) return { replace: false, data: { _exists: false } };
  if (newer.replace || (older !== undefined && isDeletion(older.data))) {
    return { replace: true, data: materializeFresh(newer.data) };
  }
  if (older === undefined) return { replace: false, data: { ...newer.data } };
  const data: ComponentData = { ...older.data };
  for (const field of Object.keys(newer.data)) {
    data[field] = mergeFieldValue(data[field], newer.data[field], older.replace);
  }
  return { replace: older.replace, data };
}

/** Merges `newer` into `target` (whose edits are older), key by key. */
export function mergeInto(target: PendingPatch, newer: ReadonlyMap<string, PendingEdit>): void {
  for (const [key, edit] of newer) target.set(key, mergeEdit(target.get(key), edit));
}

/** One pending patch with the effect of all of `patches`, oldest first. */
export function mergePendingPatches(
  ...patches: ReadonlyArray<ReadonlyMap<string, PendingEdit>>
): PendingPatch {
  const out: PendingPatch = new Map();
  for (const patch of patches) mergeInto(out, patch);
  return out;
}

/**
 * The wire form of a pending patch: one patch of every key's fields, preceded
 * by a patch of tombstones for the keys that are re-created (`replace`). The
 * server applies the patches of a frame in order (SPEC D2) under one clock (D1).
 */
export function toWirePatches(patch: ReadonlyMap<string, PendingEdit>): Patch[] {
  if (patch.size === 0) return [];
  const tombstones: Patch = {};
  const fields: Patch = {};
  let replaced = false;
  for (const [key, edit] of patch) {
    if (edit.replace && !isDeletion(edit.data)) {
      tombstones[key] = { _exists: false };
      replaced = true;
    }
    fields[key] = edit.data;
  }
  return replaced ? [tombstones, fields] : [fields];
}

/**
 * What a key looks like after `edit` is applied to `base` (its live fields, or
 * `undefined` when absent or deleted), by the server's rules (SPEC D3-D6).
 */
export function applyEdit(base: ComponentData | undefined, edit: PendingEdit): ComponentData | undefined {
  if (isDeletion(edit.data)) return undefined;
  // SPEC D5: at an absent or replaced (deleted) key only `_exists: true` creates.
  if (edit.replace || base === undefined)
    return edit.data._exists === true ? materializeFresh(edit.data) : undefined;
  const out: ComponentData = { ...base };
  for (const field of Object.keys(edit.data)) {
    const value = edit.data[field];
    out[field] = isBufferDelta(value) ? applyBufferDelta(base[field], value) : value;
  }
  return out;
}

/** JSON-safe form of a pending patch. */
export function serializePendingPatch(patch: ReadonlyMap<string, PendingEdit>): SerializedPendingPatch {
  return Array.from(patch, ([key, edit]) => [key, edit.replace, edit.data]);
}

/** Reads what {@link serializePendingPatch} wrote; malformed entries are skipped. */
export function deserializePendingPatch(value: unknown): PendingPatch {
  const out: PendingPatch = new Map();
  if (!Array.isArray(value)) return out;
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 3) continue;
    const [key, replace, data] = item as [unknown, unknown, unknown];
    if (typeof key !== 'string' || typeof replace !== 'boolean') continue;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
    out.set(key, { replace, data: data as ComponentData });
  }
  return out;
}
