import { describe, expect, it } from 'vitest';
import { ClockedDocument, SnapshotFormatError } from '../../src/index.js';

const valid = {
  timestamp: 4,
  state: { 'e1/Pos': { _exists: true, x: 1, y: 2 }, 'e2/Pos': { _exists: false } },
  timestamps: { 'e1/Pos': { _exists: 1, x: 1, y: 4 }, 'e2/Pos': { _exists: 3 } },
};

function expectFormatError(snapshot: unknown): void {
  let thrown: unknown;
  try {
    ClockedDocument.fromSnapshot(snapshot);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SnapshotFormatError);
  expect((thrown as Error).name).toBe('SnapshotFormatError');
  expect((thrown as Error).message).toMatch(/^invalid room snapshot: /);
}

describe('ClockedDocument.fromSnapshot', () => {
  it('[D9] loads live components, tombstones, stamps and the clock', () => {
    const doc = ClockedDocument.fromSnapshot(structuredClone(valid));
    expect(doc.clock).toBe(4);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual(valid);
    expect(doc.toSnapshot({ includeTombstones: false })).toEqual({
      timestamp: 4,
      state: { 'e1/Pos': { _exists: true, x: 1, y: 2 } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 1, y: 4 } },
    });
    expect(doc.getEntry('e2/Pos')).toEqual({
      fields: { _exists: false },
      stamps: { _exists: 3 },
      deleted: true,
    });
  });

  it('[D7][D9][P1] optional deletions: loaded for live keys, ignored for others, kept by toSnapshot', () => {
    const withDeletions = { ...structuredClone(valid), deletions: { 'e1/Pos': 1, 'e2/Pos': 2, absent: 3 } };
    const doc = ClockedDocument.fromSnapshot(withDeletions);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({ ...valid, deletions: { 'e1/Pos': 1 } });
    expect(doc.toSnapshot({ includeTombstones: false })).not.toHaveProperty('deletions');
    expect(doc.reconnectPatches(0)).toHaveLength(1);
    expect(doc.reconnectPatches(2)).toEqual([{ 'e1/Pos': { y: 2 }, 'e2/Pos': { _exists: false } }]);
  });

  it('[D7][B2] malformed deletions are refused with SnapshotFormatError', () => {
    expectFormatError({ ...structuredClone(valid), deletions: [] });
    expectFormatError({ ...structuredClone(valid), deletions: { 'e1/Pos': -1 } });
    expectFormatError({ ...structuredClone(valid), deletions: { 'e1/Pos': 5 } });
    expectFormatError({ ...structuredClone(valid), deletions: { 'e1/Pos': '2' } });
  });

  it('[D7][D9] a loaded tombstone is reported to clients that were away when it was deleted', () => {
    const doc = ClockedDocument.fromSnapshot(structuredClone(valid));
    expect(doc.changesSince(2)).toEqual({ 'e1/Pos': { y: 2 }, 'e2/Pos': { _exists: false } });
    expect(doc.changesSince(3)).toEqual({ 'e1/Pos': { y: 2 } });
    expect(doc.changesSince(4)).toEqual({});
  });

  it('[D9] loading an empty snapshot gives an empty document at that clock', () => {
    const doc = ClockedDocument.fromSnapshot({ timestamp: 9, state: {}, timestamps: {} });
    expect(doc.clock).toBe(9);
    expect(doc.changesSince(0)).toEqual({});
    expect(doc.applyPatches([{ k: { x: 1 } }])).toBe(10);
  });

  it('[D9] the loaded document does not alias the snapshot it was built from', () => {
    const input = structuredClone(valid);
    const doc = ClockedDocument.fromSnapshot(input);
    input.state['e1/Pos'].x = 100;
    input.timestamps['e1/Pos'].x = 4;
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual(valid);
  });

  describe('[D9] rejects malformed snapshots with SnapshotFormatError', () => {
    const cases: Array<[string, unknown]> = [
      ['null', null],
      ['an array', []],
      ['a string', 'snapshot'],
      ['a number', 5],
      ['a missing timestamp', { state: {}, timestamps: {} }],
      ['a negative timestamp', { timestamp: -1, state: {}, timestamps: {} }],
      ['a fractional timestamp', { timestamp: 1.5, state: {}, timestamps: {} }],
      ['a string timestamp', { timestamp: '3', state: {}, timestamps: {} }],
      ['a missing state', { timestamp: 1, timestamps: {} }],
      ['an array state', { timestamp: 1, state: [], timestamps: {} }],
      ['a null state', { timestamp: 1, state: null, timestamps: {} }],
      ['timestamps that are not an object', { timestamp: 1, state: {}, timestamps: 7 }],
      ['timestamps that are an array', { timestamp: 1, state: {}, timestamps: [] }],
      ['a component that is not an object', { timestamp: 1, state: { k: 5 }, timestamps: {} }],
      ['a component that is an array', { timestamp: 1, state: { k: [1] }, timestamps: {} }],
      ['a null component', { timestamp: 1, state: { k: null }, timestamps: {} }],
      ['a key named constructor', { timestamp: 1, state: { constructor: { x: 1 } }, timestamps: {} }],
      ['a key named prototype', { timestamp: 1, state: { prototype: { x: 1 } }, timestamps: {} }],
      ['a key named __proto__', JSON.parse('{"timestamp":1,"state":{"__proto__":{"x":1}},"timestamps":{}}')],
      [
        'a field named __proto__',
        JSON.parse('{"timestamp":1,"state":{"k":{"__proto__":1}},"timestamps":{}}'),
      ],
      ['a field named constructor', { timestamp: 1, state: { k: { constructor: 1 } }, timestamps: {} }],
      ['stamps that are not an object', { timestamp: 1, state: { k: { x: 1 } }, timestamps: { k: 1 } }],
      ['a stamp above the clock', { timestamp: 1, state: { k: { x: 1 } }, timestamps: { k: { x: 2 } } }],
      ['a negative stamp', { timestamp: 1, state: { k: { x: 1 } }, timestamps: { k: { x: -1 } } }],
      ['a fractional stamp', { timestamp: 2, state: { k: { x: 1 } }, timestamps: { k: { x: 0.5 } } }],
      ['a string stamp', { timestamp: 2, state: { k: { x: 1 } }, timestamps: { k: { x: '1' } } }],
    ];
    for (const [name, snapshot] of cases) {
      it(`[D9] ${name}`, () => expectFormatError(snapshot));
    }
  });
});
