import { describe, expect, it } from 'vitest';
import { ClockedDocument } from '../../src/index.js';

/** A restart: the document as storage would hand it back. */
function restart(doc: ClockedDocument): ClockedDocument {
  return ClockedDocument.fromSnapshot(
    JSON.parse(JSON.stringify(doc.toSnapshot({ includeTombstones: true }))),
  );
}

describe('components written with no fields but _exists survive restarts (D5, D7, D9)', () => {
  it('[D7][D9] a component created with only _exists: true is still announced to a client starting from 0 after a restart', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e0/S': { _exists: true } }]);
    expect(restart(doc).reconnectPatches(0)).toEqual([{ 'e0/S': { _exists: true } }]);
  });

  it('[D5][D7][D9] deleted then re-created empty: after a restart a client from before the deletion drops its old fields', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ 'e0/S': { _exists: true, a: 1 } }]);
    doc.applyPatches([{ 'e0/S': { _exists: false } }]);
    doc.applyPatches([{ 'e0/S': { _exists: true } }]);
    expect(restart(doc).reconnectPatches(1)).toEqual([
      { 'e0/S': { _exists: false } },
      { 'e0/S': { _exists: true } },
    ]);
  });

  it('[D7][D9] a live component with no fields in an older snapshot is announced as written at its clock', () => {
    const doc = ClockedDocument.fromSnapshot({ timestamp: 3, state: { 'e0/S': {} }, timestamps: {} });
    expect(doc.reconnectPatches(2)).toEqual([{ 'e0/S': {} }]);
    expect(doc.reconnectPatches(3)).toEqual([]);
  });
});
