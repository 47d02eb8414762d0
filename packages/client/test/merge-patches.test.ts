import { type BufferDelta, ClockedDocument, type ComponentData } from 'canvas-store-server';
import { describe, expect, it } from 'vitest';
import { applyEdit, mergePendingPatches, type PendingEdit, toWirePatches } from '../src/merge-patches.js';
import { seededRandom } from './helpers/clients.js';

const KEY = 'e1/Shape';

function randomDelta(random: () => number): BufferDelta {
  const len = Math.floor(random() * 8);
  const runs: BufferDelta['runs'] = [];
  let offset = 0;
  while (offset < len && random() < 0.7) {
    offset += Math.floor(random() * 3);
    const count = Math.min(len - offset, 1 + Math.floor(random() * 3));
    if (count <= 0) break;
    runs.push([offset, Array.from({ length: count }, () => Math.floor(random() * 50))]);
    offset += count;
  }
  return { __buf: 1, len, runs };
}

/**
 * A random edit as the client makes them (SPEC D5): a key it sees is updated
 * (fields, a buffer delta) or deleted; a key it does not see is created with
 * `_exists: true`.
 */
function randomEdit(random: () => number, visible: boolean): PendingEdit {
  const data: ComponentData = visible ? {} : { _exists: true };
  const roll = random();
  if (visible && roll < 0.2) return { replace: false, data: { _exists: false } };
  if (roll < 0.5) {
    data.p = randomDelta(random);
    return { replace: false, data };
  }
  for (const field of ['a', 'b', 'c']) if (random() < 0.5) data[field] = Math.floor(random() * 10);
  if (random() < 0.3)
    data.p = Array.from({ length: Math.floor(random() * 5) }, () => Math.floor(random() * 9));
  return { replace: false, data };
}

/** `count` edits made one after another, each on the view the previous ones left. */
function randomEdits(random: () => number, start: ComponentData | undefined, count: number): PendingEdit[] {
  const edits: PendingEdit[] = [];
  let view = start;
  for (let i = 0; i < count; i++) {
    const edit = randomEdit(random, view !== undefined);
    edits.push(edit);
    view = applyEdit(view, edit);
  }
  return edits;
}

/** The server's view of KEY after `frames` (each a list of wire patches), from a given start. */
function serverAfter(start: ComponentData | undefined, frames: ReturnType<typeof toWirePatches>[]) {
  const doc = new ClockedDocument();
  if (start) doc.applyPatches([{ [KEY]: start }]);
  for (const patches of frames) if (patches.length > 0) doc.applyPatches(patches);
  const entry = doc.getEntry(KEY);
  return entry && !entry.deleted ? entry.fields : undefined;
}

describe('merge-patches', () => {
  it('[D2] [D6] merged edits have the effect of the same edits sent one frame each', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 3000; round++) {
      const start: ComponentData | undefined =
        random() < 0.3 ? undefined : { _exists: true, a: 1, p: [1, 2, 3, 4, 5, 6] };
      const edits = randomEdits(random, start, 1 + Math.floor(random() * 5));
      const sequential = serverAfter(
        start,
        edits.map((edit) => toWirePatches(new Map([[KEY, edit]]))),
      );
      const merged = mergePendingPatches(...edits.map((edit) => new Map([[KEY, edit]])));
      expect(serverAfter(start, [toWirePatches(merged)])).toEqual(sequential);
      // The local view computes the same as the server.
      const local = applyEdit(start, merged.get(KEY) as PendingEdit);
      expect(local).toEqual(sequential);
    }
  });

  it('[D5] deletion then re-creation in one buffer is sent as a tombstone followed by a fresh component', () => {
    const merged = mergePendingPatches(
      new Map([[KEY, { replace: false, data: { _exists: false } }]]),
      new Map([[KEY, { replace: false, data: { _exists: true, a: 2 } }]]),
    );
    expect(toWirePatches(merged)).toEqual([
      { [KEY]: { _exists: false } },
      { [KEY]: { _exists: true, a: 2 } },
    ]);
    // Against a live component with other fields, nothing of the old one comes back.
    expect(serverAfter({ _exists: true, a: 1, b: 1 }, [toWirePatches(merged)])).toEqual({
      _exists: true,
      a: 2,
    });
  });

  it('[D4] a deletion absorbs earlier edits of the key', () => {
    const merged = mergePendingPatches(
      new Map([[KEY, { replace: false, data: { _exists: true, a: 1 } }]]),
      new Map([[KEY, { replace: false, data: { _exists: false } }]]),
    );
    expect(toWirePatches(merged)).toEqual([{ [KEY]: { _exists: false } }]);
  });
});
