import type { Patch } from '../../../src/index.js';
import { isDelta, naiveApplyBufferDelta, plain } from '../reference-doc.js';

/**
 * A mirror of what the published client (`@woven-ecs/canvas-store` 2.x) does
 * with document patches, written from its observable behaviour:
 *
 * - patches received while writes are in flight are stripped of the in-flight
 *   fields; a tombstone is kept whatever the mask, a masked tombstone drops the
 *   key, and a key left with no fields is dropped;
 * - patches pending for one pull are merged (a later write to a tombstoned key
 *   replaces it, so `[tombstone, whole]` becomes the whole component) and then
 *   stripped of the fields still in the offline buffer;
 * - the world applies the result: `_exists: false` removes the component,
 *   `_exists: true` replaces it whole (fields not sent fall back to defaults,
 *   here: absent), anything else patches a component that exists and is
 *   ignored for one that does not.
 *
 * It is not the reference model of the server's document ({@link ReferenceDoc}):
 * the published client legitimately differs from it (a masked field is dropped,
 * `_exists: true` replaces a component whole, a patch to a missing key is
 * ignored), and the differential suite compares what that client shows.
 */

/** What the client's world holds: key to fields (without `_exists`). */
export type MirrorState = Record<string, Record<string, unknown>>;

/** Merges patches the way the client merges pending and buffered writes. */
export function mergePatches(...patches: Patch[]): Patch {
  const result: Patch = {};
  const createdWithin = new Set<string>();
  for (const patch of patches) {
    for (const [key, value] of Object.entries(patch)) {
      const existing = result[key];
      if (value._exists === false) {
        // A component created and deleted within the merged span never existed.
        if (createdWithin.delete(key)) delete result[key];
        else result[key] = { _exists: false };
      } else if (existing === undefined || existing._exists === false) {
        if (existing === undefined && value._exists === true) createdWithin.add(key);
        result[key] = { ...value };
      } else {
        const merged: Record<string, unknown> = { ...existing };
        for (const [field, fieldValue] of Object.entries(value)) {
          merged[field] = isDelta(fieldValue) ? naiveApplyBufferDelta(merged[field], fieldValue) : fieldValue;
        }
        result[key] = merged;
      }
    }
  }
  return result;
}

/** Drops from `patch` what `mask` (the client's own unconfirmed writes) covers. */
function stripMasked(patch: Patch, mask: Patch): Patch {
  if (Object.keys(mask).length === 0) return patch;
  const result: Patch = {};
  for (const [key, value] of Object.entries(patch)) {
    const masked = mask[key];
    if (masked === undefined || value._exists === false) {
      result[key] = value;
      continue;
    }
    if (masked._exists === false) continue;
    const kept: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(value)) if (!(field in masked)) kept[field] = fieldValue;
    if (Object.keys(kept).length > 0) result[key] = kept;
  }
  return result;
}

/** Applies one patch to the world, as the client's ECS adapter does. */
export function applyToWorld(state: MirrorState, patch: Patch): MirrorState {
  const out = plain(state);
  for (const [key, value] of Object.entries(patch)) {
    if (value._exists === false) {
      delete out[key];
      continue;
    }
    const { _exists, ...fields } = value;
    if (_exists) {
      const whole: Record<string, unknown> = {};
      for (const [field, fieldValue] of Object.entries(fields)) {
        whole[field] = isDelta(fieldValue) ? naiveApplyBufferDelta(undefined, fieldValue) : plain(fieldValue);
      }
      out[key] = whole;
      continue;
    }
    const current = out[key];
    if (!current) continue;
    for (const [field, fieldValue] of Object.entries(fields)) {
      current[field] = isDelta(fieldValue)
        ? naiveApplyBufferDelta(current[field], fieldValue)
        : plain(fieldValue);
    }
  }
  return out;
}

/** How the client's unconfirmed writes stood when a reconnect reply arrived. */
interface ReplyMasks {
  /** Writes sent and not yet acked: stripped from each patch as it is received. */
  inFlight: Patch;
  /** Writes still in the offline buffer: stripped from the merged patches at pull time. */
  offline: Patch;
}

/** The world after the client receives the reconnect reply's document patches and pulls them. */
export function applyReply(
  state: MirrorState,
  documentPatches: readonly Patch[],
  masks: ReplyMasks,
): MirrorState {
  const received = documentPatches
    .map((patch) => stripMasked(patch, masks.inFlight))
    .filter((patch) => Object.keys(patch).length > 0);
  if (received.length === 0) return plain(state);
  return applyToWorld(state, stripMasked(mergePatches(...received), masks.offline));
}

/** The world a client holds when the document is `live` (a server's live state). */
export function worldOf(live: Record<string, Record<string, unknown>>): MirrorState {
  const out: MirrorState = {};
  for (const [key, fields] of Object.entries(live)) {
    const { _exists, ...rest } = fields;
    out[key] = plain(rest);
  }
  return out;
}
