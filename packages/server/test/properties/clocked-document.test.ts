import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockedDocument, type Patch } from '../../src/index.js';
import { clientApply, type LiveState, plain, ReferenceDoc } from '../harness/reference-doc.js';
import { scaled } from '../harness/reliability-harness.js';
import { historyArb } from './arbitraries.js';

describe('ClockedDocument properties', () => {
  it('[D1][D2][D3][D4][D5][D6] matches a reference model of the document rules, clock and stamps included', () => {
    fc.assert(
      fc.property(historyArb, (frames) => {
        const doc = new ClockedDocument();
        const model = new ReferenceDoc();
        let keyedFrames = 0;
        for (const patches of frames) {
          const hasKey = patches.some((p) => Object.keys(p).length > 0);
          const before = doc.clock;
          const result = doc.applyPatches(plain(patches));
          model.applyFrame(patches);
          if (hasKey) keyedFrames++;
          expect(result).toBe(hasKey ? before + 1 : null);
        }
        expect(doc.clock).toBe(keyedFrames);
        expect(plain(doc.toSnapshot({ includeTombstones: false }).state)).toEqual(model.live());
        expect(plain(doc.toSnapshot({ includeTombstones: true }))).toEqual(model.withTombstones());
      }),
      { numRuns: scaled(300, 5_000) },
    );
  });

  it('[D7] the reconnect reply has exactly the reference shape: a leading tombstone only for keys deleted after T and live again', () => {
    fc.assert(
      fc.property(historyArb, (frames) => {
        const doc = new ClockedDocument();
        const model = new ReferenceDoc();
        for (const patches of frames) {
          doc.applyPatches(plain(patches));
          model.applyFrame(patches);
        }
        const restored = ClockedDocument.fromSnapshot(plain(doc.toSnapshot({ includeTombstones: true })));
        for (let t = 0; t <= doc.clock + 1; t++) {
          expect(plain(doc.reconnectPatches(t)), `T=${t}`).toEqual(model.reconnectPatches(t));
          expect(plain(restored.reconnectPatches(t)), `restored T=${t}`).toEqual(model.reconnectPatches(t));
        }
      }),
      { numRuns: scaled(300, 5_000) },
    );
  });

  /** Runs `frames`, recording the reference live state at every clock value. */
  function history(frames: readonly Patch[][]): {
    doc: ClockedDocument;
    statesAt: LiveState[];
    current: LiveState;
  } {
    const doc = new ClockedDocument();
    const model = new ReferenceDoc();
    const statesAt: LiveState[] = [model.live()];
    for (const patches of frames) {
      doc.applyPatches(plain(patches));
      model.applyFrame(patches);
      statesAt[model.clock] = model.live();
    }
    return { doc, statesAt, current: model.live() };
  }

  function expectReconnectsToCurrent(doc: ClockedDocument, statesAt: LiveState[], current: LiveState): void {
    for (let t = 0; t <= doc.clock; t++) {
      const atT = statesAt[t];
      if (atT === undefined) throw new Error(`no recorded state at ${t}`);
      expect(clientApply(atT, doc.reconnectPatches(t)), `T=${t}`).toEqual(current);
    }
  }

  it('[D7] a client holding the state at any T ends at the current live state after the reconnect reply', () => {
    fc.assert(
      fc.property(historyArb, (frames) => {
        const { doc, statesAt, current } = history(frames);
        expectReconnectsToCurrent(doc, statesAt, current);
      }),
      { numRuns: scaled(300, 5_000) },
    );
  });

  it('[D7][D9] the same holds for a document restored from its persisted snapshot (tombstones included)', () => {
    fc.assert(
      fc.property(historyArb, (frames) => {
        const { doc, statesAt, current } = history(frames);
        const restored = ClockedDocument.fromSnapshot(plain(doc.toSnapshot({ includeTombstones: true })));
        expectReconnectsToCurrent(restored, statesAt, current);
      }),
      { numRuns: scaled(300, 5_000) },
    );
  });
});
