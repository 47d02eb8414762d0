import { describe, expect, it } from 'vitest';
import { type BufferDelta, ClockedDocument } from '../../src/index.js';

function delta(len: number, runs: Array<[number, number[]]> = []): BufferDelta {
  return { __buf: 1, len, runs };
}

describe('buffer deltas in ClockedDocument', () => {
  it('[D6] a delta is materialised against the stored array and stored whole', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Path': { _exists: true, pts: [1, 2, 3, 4] } }]);
    doc.applyPatches([{ 'e1/Path': { pts: delta(5, [[4, [50]]]) } }]);
    expect(doc.toSnapshot({ includeTombstones: false })).toEqual({
      timestamp: 2,
      state: { 'e1/Path': { _exists: true, pts: [1, 2, 3, 4, 50] } },
      timestamps: { 'e1/Path': { _exists: 1, pts: 2 } },
    });
    expect(doc.changesSince(1)).toEqual({ 'e1/Path': { pts: [1, 2, 3, 4, 50] } });
  });

  it('[D6] a delta to a field with no stored array starts from zeros', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Path': { _exists: true, pts: 'not an array' } }]);
    doc.applyPatches([{ 'e1/Path': { pts: delta(3, [[2, [7]]]), other: delta(2) } }]);
    expect(doc.getEntry('e1/Path')?.fields).toEqual({ _exists: true, pts: [0, 0, 7], other: [0, 0] });
  });

  it('[D5][D6] a delta to a tombstoned key does not see the deleted array', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Path': { _exists: true, pts: [9, 9, 9] } }]);
    doc.applyPatches([{ 'e1/Path': { _exists: false } }]);
    doc.applyPatches([{ 'e1/Path': { _exists: true, pts: delta(3, [[0, [1]]]) } }]);
    expect(doc.getEntry('e1/Path')?.fields).toEqual({ _exists: true, pts: [1, 0, 0] });
  });

  it('[D2][D6] deltas of one frame apply in order, each on the result of the previous', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Path': { _exists: true, pts: [1, 2] } }]);
    doc.applyPatches([
      { 'e1/Path': { pts: delta(4, [[2, [3]]]) } },
      { 'e1/Path': { pts: delta(4, [[3, [4]]]) } },
    ]);
    expect(doc.getEntry('e1/Path')?.fields).toEqual({ _exists: true, pts: [1, 2, 3, 4] });
    expect(doc.clock).toBe(2);
  });

  it('[D6] the stored array is a new array, not the one sent in an earlier write', () => {
    const doc = new ClockedDocument();
    const sent = [1, 2, 3];
    doc.applyPatches([{ k: { _exists: true, pts: sent } }]);
    doc.applyPatches([{ k: { pts: delta(3, [[0, [5]]]) } }]);
    expect(sent).toEqual([1, 2, 3]);
    expect(doc.getEntry('k')?.fields).toEqual({ _exists: true, pts: [5, 2, 3] });
  });
});
