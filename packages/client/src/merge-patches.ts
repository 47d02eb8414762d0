import { applyBufferDelta, type ComponentData, isBufferDelta, type Patch } from 'canvas-store-protocol';
import { mergeFieldValue } from './buffer-delta.js';

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
  /**
   * Fields edited before `data` (which carries `_exists: true`) created the
   * key, sent first in a patch of their own: on a live component they merge,
   * on an absent one they change nothing and `data` alone creates it (SPEC D2,
   * D5). No single patch has that effect in both cases.
   */
  before?: ComponentData;
}

/** Unconfirmed edits by key, in the order their keys were first edited. */
export type PendingPatch = Map<string, PendingEdit>;

/** A pending patch as JSON-safe data (for IndexedDB). */
export type SerializedPendingPatch = Array<
  | [key: string, replace: boolean, data: ComponentData]
  | [key: string, replace: boolean, data: ComponentData, before: ComponentData]
>;

/** True for a deletion (`{ _exists: false }`). */
function isDeletion(data: ComponentData): boolean {
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
 * - an edit followed by a creation (`_exists: true`) keeps the edit apart, in
 *   `before`, since only a live key takes it (SPEC D5);
 * - otherwise fields merge, newer values winning and buffer deltas composing.
 */
export function mergeEdit(older: PendingEdit | undefined, newer: PendingEdit): PendingEdit {
  if (isDeletion(newer.data)) return { replace: false, data: { _exists: false } };
  if (newer.replace || (older !== undefined && isDeletion(older.data))) {
    const fresh = materializeFresh(newer.data);
    // Fields after a deletion without `_exists: true` create nothing (D5): still a deletion.
    if (fresh._exists !== true) return { replace: false, data: { _exists: false } };
    return { replace: true, data: fresh };
  }
  if (older === undefined) return withBefore({ replace: false, data: { ...newer.data } }, newer.before);
  if (newer.data._exists === true && !older.replace && older.data._exists !== true) {
    // An edit, then a creation: whether the edit counts depends on whether the
    // key is live when the frame applies, so the edit travels first (D2, D5).
    const before = newer.before ? mergeData(older.data, newer.before, false) : { ...older.data };
    return { replace: false, data: { ...newer.data }, before };
  }
  let data = older.data;
  if (newer.before) data = mergeData(data, newer.before, older.replace);
  return withBefore(
    { replace: older.replace, data: mergeData(data, newer.data, older.replace) },
    older.before,
  );
}

function mergeData(older: ComponentData, newer: ComponentData, replace: boolean): ComponentData {
  const data: ComponentData = { ...older };
  for (const field of Object.keys(newer)) data[field] = mergeFieldValue(data[field], newer[field], replace);
  return data;
}

function withBefore(edit: PendingEdit, before: ComponentData | undefined): PendingEdit {
  if (before !== undefined) edit.before = { ...before };
  return edit;
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
  const befores: Patch = {};
  const fields: Patch = {};
  for (const [key, edit] of patch) {
    if (edit.replace && !isDeletion(edit.data)) tombstones[key] = { _exists: false };
    if (edit.before) befores[key] = edit.before;
    fields[key] = edit.data;
  }
  return [tombstones, befores, fields].filter((part) => Object.keys(part).length > 0);
}

/**
 * What a key looks like after `edit` is applied to `base` (its live fields, or
 * `undefined` when absent or deleted), by the server's rules (SPEC D3-D6).
 */
export function applyEdit(base: ComponentData | undefined, edit: PendingEdit): ComponentData | undefined {
  if (isDeletion(edit.data)) return undefined;
  if (edit.before) base = applyEdit(base, { replace: false, data: edit.before });
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
  return Array.from(patch, ([key, edit]) =>
    edit.before ? [key, edit.replace, edit.data, edit.before] : [key, edit.replace, edit.data],
  );
}

/** Reads what {@link serializePendingPatch} wrote; malformed entries are skipped. */
export function deserializePendingPatch(value: unknown): PendingPatch {
  const out: PendingPatch = new Map();
  if (!Array.isArray(value)) return out;
  for (const item of value) {
    if (!Array.isArray(item) || (item.length !== 3 && item.length !== 4)) continue;
    const [key, replace, data, before] = item as [unknown, unknown, unknown, unknown];
    if (typeof key !== 'string' || typeof replace !== 'boolean') continue;
    if (!isRecord(data) || (before !== undefined && !isRecord(before))) continue;
    out.set(key, withBefore({ replace, data: data as ComponentData }, before as ComponentData | undefined));
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
