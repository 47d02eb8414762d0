import { describe, expect, it } from 'vitest';
import { ClockedDocument, type Patch } from '../../src/index.js';
import { ReferenceDoc } from '../harness/reference-doc.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** History used by the explicit cases below; the clock after each frame is in the comment. */
function buildHistory(): ClockedDocument {
  const doc = new ClockedDocument();
  doc.applyPatches([{ a: { _exists: true, x: 1, y: 1 }, b: { _exists: true, v: 1 } }]); // 1
  doc.applyPatches([{ a: { x: 2 } }]); // 2
  doc.applyPatches([{ b: { _exists: false } }]); // 3
  doc.applyPatches([{ c: { _exists: true, z: 1 } }]); // 4
  doc.applyPatches([{ b: { _exists: true, w: 5 } }]); // 5: b recreated
  doc.applyPatches([{ c: { _exists: false } }]); // 6
  doc.applyPatches([{ a: { y: 7 } }]); // 7
  return doc;
}

describe('ClockedDocument.changesSince', () => {
  const expected: Record<number, Patch> = {
    0: { a: { _exists: true, x: 2, y: 7 }, b: { _exists: true, w: 5 }, c: { _exists: false } },
    1: { a: { x: 2, y: 7 }, b: { _exists: true, w: 5 }, c: { _exists: false } },
    2: { a: { y: 7 }, b: { _exists: true, w: 5 }, c: { _exists: false } },
    3: { a: { y: 7 }, b: { _exists: true, w: 5 }, c: { _exists: false } },
    4: { a: { y: 7 }, b: { _exists: true, w: 5 }, c: { _exists: false } },
    5: { a: { y: 7 }, c: { _exists: false } },
    6: { a: { y: 7 } },
    7: {},
    8: {},
  };

  for (const [t, patch] of Object.entries(expected)) {
    it(`[D7] after T=${t}: every (key, field) stamped after T, tombstones as _exists:false`, () => {
      expect(buildHistory().changesSince(Number(t))).toEqual(patch);
    });
  }

  it('[D7][D4] a key deleted after T appears as exactly { _exists: false }', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ k: { _exists: true, x: 1, y: 2 } }]);
    doc.applyPatches([{ k: { _exists: false } }]);
    expect(doc.changesSince(1)).toEqual({ k: { _exists: false } });
  });

  it('[D7] a key written and deleted after T still reports the deletion', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ other: { _exists: true, x: 1 } }]);
    doc.applyPatches([{ k: { _exists: true, x: 1 } }]);
    doc.applyPatches([{ k: { _exists: false } }]);
    expect(doc.changesSince(1)).toEqual({ k: { _exists: false } });
  });

  it('[D7] a key deleted at or before T and never rewritten is not reported', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ k: { _exists: true, x: 1 } }]);
    doc.applyPatches([{ k: { _exists: false } }]);
    doc.applyPatches([{ other: { _exists: true, x: 1 } }]);
    expect(doc.changesSince(2)).toEqual({ other: { _exists: true, x: 1 } });
  });

  it('[D7] values come from current state, not from the write that stamped them', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ k: { _exists: true, x: 1 } }]);
    doc.applyPatches([{ k: { x: 2 } }]);
    doc.applyPatches([{ k: { x: 3 } }]);
    expect(doc.changesSince(1)).toEqual({ k: { x: 3 } });
  });

  it('[D5] an edit without _exists to an absent or deleted key changes nothing but still takes a clock', () => {
    const doc = new ClockedDocument();
    expect(doc.applyPatches([{ k: { x: 1 } }])).toBe(1);
    doc.applyPatches([{ d: { _exists: true, x: 1 } }]);
    doc.applyPatches([{ d: { _exists: false } }]);
    expect(doc.applyPatches([{ d: { x: 2 }, k: { y: 2 } }])).toBe(4);
    expect(doc.toSnapshot({ includeTombstones: true })).toEqual({
      timestamp: 4,
      state: { d: { _exists: false } },
      timestamps: { d: { _exists: 3 } },
    });
    expect(doc.changesSince(3)).toEqual({});
  });

  it('[D7] the result does not share component objects with the document', () => {
    const doc = new ClockedDocument();
    doc.applyPatches([{ k: { _exists: true, x: 1 } }]);
    const changes = doc.changesSince(0);
    (changes.k as Record<string, unknown>).x = 42;
    expect(doc.changesSince(0)).toEqual({ k: { _exists: true, x: 1 } });
  });
});

function randomFrame(rand: () => number): Patch[] {
  const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
  const fields = ['x', 'y', 'z', '_version'];
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)] as T;
  const patches: Patch[] = [];
  const patchCount = Math.floor(rand() * 3);
  for (let p = 0; p < patchCount; p++) {
    const patch: Patch = {};
    const keyCount = Math.floor(rand() * 3);
    for (let k = 0; k < keyCount; k++) {
      const key = pick(keys);
      if (rand() < 0.25) {
        patch[key] = { _exists: false };
      } else {
        const component: Record<string, unknown> = rand() < 0.3 ? { _exists: true } : {};
        const fieldCount = 1 + Math.floor(rand() * 2);
        for (let f = 0; f < fieldCount; f++) component[pick(fields)] = Math.floor(rand() * 100);
        patch[key] = component;
      }
    }
    patches.push(patch);
  }
  return patches;
}

describe('ClockedDocument against a reference model of D1-D5 and D7', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`[D1][D2][D3][D4][D5][D7] random history (seed ${seed}) matches after every T`, () => {
      const rand = seededRandom(seed);
      const doc = new ClockedDocument();
      const model = new ReferenceDoc();
      for (let step = 0; step < 150; step++) {
        const frame = randomFrame(rand);
        const stamp = doc.applyPatches(frame);
        expect(stamp).toBe(model.applyFrame(frame));
        expect(doc.clock).toBe(model.clock);
      }
      expect(doc.toSnapshot({ includeTombstones: true })).toEqual(model.snapshot(true));
      expect(doc.toSnapshot({ includeTombstones: false })).toEqual(model.snapshot(false));
      for (let t = 0; t <= model.clock + 1; t++) {
        expect(doc.changesSince(t), `changesSince(${t})`).toEqual(model.changesSince(t));
      }
      const restored = ClockedDocument.fromSnapshot(
        JSON.parse(JSON.stringify(doc.toSnapshot({ includeTombstones: true }))),
      );
      for (let t = 0; t <= model.clock + 1; t++) {
        expect(restored.changesSince(t), `restored changesSince(${t})`).toEqual(model.changesSince(t));
      }
    });
  }
});
