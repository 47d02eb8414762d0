import { describe, expect, it } from 'vitest';
import { ClockedDocument } from '../../src/index.js';

describe('ClockedDocument merge rules', () => {
  it('[D1] a new document has clock 0 and is empty', () => {
    const doc = new ClockedDocument();
    expect(doc.clock).toBe(0);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({ timestamp: 0, state: {}, timestamps: {} });
    expect(doc.changesSince(0)).toEqual({});
  });

  it('[D1] one frame with several patches and keys advances the clock by exactly one', () => {
    const doc = new ClockedDocument();
    const stamp = doc.applyPatches([
      { 'e1/Pos': { _exists: true, x: 1 }, 'e2/Pos': { _exists: true, x: 2 } },
      { 'e3/Pos': { _exists: true, x: 3 } },
    ]);
    expect(stamp).toBe(1);
    expect(doc.clock).toBe(1);
    expect(doc.toSnapshot({ includeTombstones: false })).toEqual({
      timestamp: 1,
      state: {
        'e1/Pos': { _exists: true, x: 1 },
        'e2/Pos': { _exists: true, x: 2 },
        'e3/Pos': { _exists: true, x: 3 },
      },
      timestamps: {
        'e1/Pos': { _exists: 1, x: 1 },
        'e2/Pos': { _exists: 1, x: 1 },
        'e3/Pos': { _exists: 1, x: 1 },
      },
    });
    expect(doc.applyPatches([{ 'e1/Pos': { x: 5 } }])).toBe(2);
    expect(doc.clock).toBe(2);
  });

  it('[D1] patches without keys do not move the clock', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { x: 1 } }]);
    expect(doc.applyPatches([])).toBeNull();
    expect(doc.applyPatches([{}, {}])).toBeNull();
    expect(doc.clock).toBe(1);
  });

  it('[D1] every field written by a frame is stamped with the new clock', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1, y: 1 } }]);
    doc.applyPatches([{ 'e2/Pos': { _exists: true, x: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { y: 2, z: 3 }, 'e2/Pos': { x: 9 } }]);
    expect(doc.toSnapshot({ includeTombstones: false }).timestamps).toEqual({
      'e1/Pos': { _exists: 1, x: 1, y: 3, z: 3 },
      'e2/Pos': { _exists: 2, x: 3 },
    });
  });

  it('[D2] within a frame patches apply in array order and the later one wins', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([
      { 'e1/Pos': { _exists: true, x: 1, y: 1 } },
      { 'e1/Pos': { x: 2 } },
      { 'e1/Pos': { x: 3 } },
    ]);
    expect(doc.toSnapshot({ includeTombstones: false })).toEqual({
      timestamp: 1,
      state: { 'e1/Pos': { _exists: true, x: 3, y: 1 } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 1, y: 1 } },
    });
  });

  it('[D2][D4] a deletion after a write in the same frame leaves a tombstone', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1 } }, { 'e1/Pos': { _exists: false } }]);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({
      timestamp: 1,
      state: { 'e1/Pos': { _exists: false } },
      timestamps: { 'e1/Pos': { _exists: 1 } },
    });
    expect(doc.size).toBe(0);
  });

  it('[D2][D5] a write after a deletion in the same frame starts a fresh component', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1, y: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { _exists: false } }, { 'e1/Pos': { _exists: true, z: 7 } }]);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({
      timestamp: 2,
      state: { 'e1/Pos': { _exists: true, z: 7 } },
      timestamps: { 'e1/Pos': { _exists: 2, z: 2 } },
      deletions: { 'e1/Pos': 2 },
    });
  });

  it('[D3] writing fields keeps the other fields and their stamps', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, _version: '1', x: 1, y: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { y: 2 } }]);
    expect(doc.getEntry('e1/Pos')).toEqual({
      fields: { _exists: true, _version: '1', x: 1, y: 2 },
      stamps: { _exists: 1, _version: 1, x: 1, y: 2 },
      deleted: false,
    });
  });

  it('[D3] field values are replaced whole, not deep-merged', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([
      { 'e1/Shape': { _exists: true, style: { fill: 'red', stroke: 'blue' }, pts: [1, 2, 3] } },
    ]);
    doc.applyPatches([{ 'e1/Shape': { style: { fill: 'green' }, pts: [4] } }]);
    expect(doc.toSnapshot({ includeTombstones: false }).state).toEqual({
      'e1/Shape': { _exists: true, style: { fill: 'green' }, pts: [4] },
    });
  });

  it('[D3] _version is an ordinary field, stamped like any other', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, _version: '1', x: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { _version: '2' } }]);
    expect(doc.changesSince(1)).toEqual({ 'e1/Pos': { _version: '2' } });
  });

  it('[D4] a deletion drops every field and resets the stamps to just _exists', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1, y: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { _exists: false, x: 99 } }]);
    expect(doc.getEntry('e1/Pos')).toEqual({
      fields: { _exists: false },
      stamps: { _exists: 2 },
      deleted: true,
    });
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({
      timestamp: 2,
      state: { 'e1/Pos': { _exists: false } },
      timestamps: { 'e1/Pos': { _exists: 2 } },
    });
    expect(doc.size).toBe(0);
    expect(doc.keyCount).toBe(1);
  });

  it('[D4] deleting a key that was never written records a tombstone', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e9/Pos': { _exists: false } }]);
    expect(doc.toSnapshot({ includeTombstones: true }).state).toEqual({ 'e9/Pos': { _exists: false } });
    expect(doc.changesSince(0)).toEqual({ 'e9/Pos': { _exists: false } });
  });

  it('[D5] _exists: true at an absent key creates a component holding only the written fields', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1 } }]);
    expect(doc.getEntry('e1/Pos')).toEqual({
      fields: { _exists: true, x: 1 },
      stamps: { _exists: 1, x: 1 },
      deleted: false,
    });
  });

  it('[D5] a write without _exists to an absent key changes nothing, yet the frame takes a clock', () => {
    const doc = new ClockedDocument();
    expect(doc.applyPatches([{ 'e1/Pos': { x: 1 } }])).toBe(1);
    expect(doc.getEntry('e1/Pos')).toBeUndefined();
    expect(doc.size).toBe(0);
    expect(doc.changesSince(0)).toEqual({});
  });

  it('[D5] writing to a tombstoned key brings nothing of the old component back', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1, y: 1, z: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { _exists: false } }]);
    doc.applyPatches([{ 'e1/Pos': { _exists: true, y: 5 } }]);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({
      timestamp: 3,
      state: { 'e1/Pos': { _exists: true, y: 5 } },
      timestamps: { 'e1/Pos': { _exists: 3, y: 3 } },
      deletions: { 'e1/Pos': 2 },
    });
    expect(doc.size).toBe(1);
  });

  it('[D5] a write without _exists to a tombstoned key loses: the tombstone and its stamp stay', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1, y: 1 } }]);
    doc.applyPatches([{ 'e1/Pos': { _exists: false } }]);
    expect(doc.applyPatches([{ 'e1/Pos': { x: 4 } }])).toBe(3);
    expect(doc.getEntry('e1/Pos')).toEqual({
      fields: { _exists: false },
      stamps: { _exists: 2 },
      deleted: true,
    });
    expect(doc.changesSince(2)).toEqual({});
  });

  it('[D5] a write of no fields to a live key stamps nothing', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1 } }]);
    expect(doc.applyPatches([{ 'e1/Pos': {} }])).toBe(2);
    expect(doc.changesSince(1)).toEqual({});
  });

  it('[D1] onKeyWritten is told each written key', () => {
    const doc = new ClockedDocument();
    const written: string[] = [];
    doc.applyPatches([{ a: { x: 1 }, b: { _exists: false } }, { c: { y: 2 } }], (key) => written.push(key));
    expect(written).toEqual(['a', 'b', 'c']);
  });
});

describe('ClockedDocument.toSnapshot', () => {
  function history(): ClockedDocument {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e1/Pos': { _exists: true, x: 1 }, 'e2/Pos': { _exists: true, x: 2 } }]);
    doc.applyPatches([{ 'e2/Pos': { _exists: false } }]);
    doc.applyPatches([{ 'e1/Pos': { y: 3 } }]);
    return doc;
  }

  it('[D10] without tombstones it is the live document with its stamps and the clock', () => {
    expect(history().toSnapshot({ includeTombstones: false })).toEqual({
      timestamp: 3,
      state: { 'e1/Pos': { _exists: true, x: 1, y: 3 } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 1, y: 3 } },
    });
  });

  it('[D9] with tombstones it also holds each deletion stamped with its clock', () => {
    expect(history().toSnapshot({ includeTombstones: true })).toEqual({
      timestamp: 3,
      state: { 'e1/Pos': { _exists: true, x: 1, y: 3 }, 'e2/Pos': { _exists: false } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 1, y: 3 }, 'e2/Pos': { _exists: 2 } },
    });
  });

  it('[D10] snapshots are copies: mutating one does not change the document', () => {
    const doc = history();
    const snapshot = doc.toSnapshot({ includeTombstones: true });
    (snapshot.state['e1/Pos'] as Record<string, unknown>).x = 100;
    (snapshot.timestamps['e1/Pos'] as Record<string, number>).x = 3;
    delete snapshot.state['e2/Pos'];
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual(
      history().toSnapshot({ includeTombstones: true }),
    );
  });

  it('[D9][D10] fromSnapshot(toSnapshot with tombstones) restores state, stamps, clock and changesSince', () => {
    const doc = history();
    const restored = ClockedDocument.fromSnapshot(
      JSON.parse(JSON.stringify(doc.toSnapshot({ includeTombstones: true }))),
    );
    expect(restored.clock).toBe(3);
    expect(restored.toSnapshot({ includeTombstones: true })).toEqual(
      doc.toSnapshot({ includeTombstones: true }),
    );
    for (let t = 0; t <= 4; t++) expect(restored.changesSince(t)).toEqual(doc.changesSince(t));
    expect(restored.size).toBe(1);
    expect(restored.keyCount).toBe(2);
  });

  it('[D1][D5] a restored document keeps counting from the snapshot clock', () => {
    const restored = ClockedDocument.fromSnapshot(history().toSnapshot({ includeTombstones: true }));
    expect(restored.applyPatches([{ 'e2/Pos': { _exists: true, z: 1 } }])).toBe(4);
    expect(restored.getEntry('e2/Pos')).toEqual({
      fields: { _exists: true, z: 1 },
      stamps: { _exists: 4, z: 4 },
      deleted: false,
    });
    expect(restored.changesSince(3)).toEqual({ 'e2/Pos': { _exists: true, z: 1 } });
  });
});
