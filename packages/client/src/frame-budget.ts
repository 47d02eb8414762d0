import type { PendingEdit, PendingPatch } from './merge-patches.js';

/** How much one write frame may carry (keep under the server's limits, SPEC B4). */
export interface FrameBudget {
  /** Bytes of document patches per frame. */
  maxFrameBytes: number;
  /** Keys across the document patches of a frame. */
  maxKeysPerFrame: number;
}

/** Half of the server's defaults (2 MiB, 10,000 keys), leaving room for the rest of a frame. */
export const DEFAULT_FRAME_BUDGET: Readonly<FrameBudget> = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxKeysPerFrame: 5_000,
});

/** UTF-8 length of a string. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Wire cost of one key's edit: bytes, and keys (a re-creation also sends a tombstone). */
function costOf(key: string, edit: PendingEdit): { bytes: number; keys: number } {
  const keyBytes = utf8Length(JSON.stringify(key)) + 2;
  const bytes = keyBytes + utf8Length(JSON.stringify(edit.data));
  if (edit.before) return { bytes: bytes + keyBytes + utf8Length(JSON.stringify(edit.before)), keys: 2 };
  const recreate = edit.replace && edit.data._exists !== false;
  return recreate ? { bytes: bytes + keyBytes + 17, keys: 2 } : { bytes, keys: 1 };
}

/**
 * Splits a patch into consecutive parts that each fit `budget`, stopping after
 * `maxParts` parts. A key's edit is never split; a single edit larger than the
 * budget gets a part of its own.
 */
export function splitByBudget(
  patch: ReadonlyMap<string, PendingEdit>,
  budget: FrameBudget,
  maxParts = Number.POSITIVE_INFINITY,
): PendingPatch[] {
  const parts: PendingPatch[] = [];
  let part: PendingPatch = new Map();
  let bytes = 0;
  let keys = 0;
  for (const [key, edit] of patch) {
    const cost = costOf(key, edit);
    if (
      part.size > 0 &&
      (bytes + cost.bytes > budget.maxFrameBytes || keys + cost.keys > budget.maxKeysPerFrame)
    ) {
      parts.push(part);
      if (parts.length >= maxParts) return parts;
      part = new Map();
      bytes = 0;
      keys = 0;
    }
    part.set(key, edit);
    bytes += cost.bytes;
    keys += cost.keys;
  }
  if (part.size > 0) parts.push(part);
  return parts;
}
