import { describe, expect, it } from 'vitest';
import { EphemeralState } from '../../src/document/ephemeral-state.js';

/**
 * The merged view a newcomer's presence snapshot is read from (SPEC E2, R3):
 * kept up to date on every create and delete, it must say exactly what
 * merging every other client's map would say.
 */

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('merged ephemeral view (R3, E2)', () => {
  it('[R3][E2] holds every client’s live keys, leaves out the asking client’s own, and follows updates', () => {
    const state = new EphemeralState();
    state.apply('a', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    state.apply('b', [{ 'cursor/b': { _exists: true, x: 2 } }, { 'sel/b': { _exists: true, ids: [1] } }]);
    state.apply('a', [{ 'cursor/a': { x: 5 } }]);
    expect(plain(state.othersThan('newcomer'))).toEqual({
      'cursor/a': { _exists: true, x: 5 },
      'cursor/b': { _exists: true, x: 2 },
      'sel/b': { _exists: true, ids: [1] },
    });
    expect(plain(state.othersThan('a'))).toEqual({
      'cursor/b': { _exists: true, x: 2 },
      'sel/b': { _exists: true, ids: [1] },
    });
  });

  it('[R3][E1][E3] deleted keys and departed clients leave the view; an empty view is null', () => {
    const state = new EphemeralState();
    state.apply('a', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    state.apply('b', [{ 'cursor/b': { _exists: true, x: 2 } }]);
    state.apply('a', [{ 'cursor/a': { _exists: false } }]);
    expect(plain(state.othersThan('c'))).toEqual({ 'cursor/b': { _exists: true, x: 2 } });
    expect(state.forget('b')).toEqual({ 'cursor/b': { _exists: false } });
    expect(state.othersThan('c')).toBeNull();
    // A write without `_exists: true` to an absent key creates nothing (D5).
    state.apply('a', [{ 'cursor/a': { x: 9 } }]);
    expect(state.othersThan('c')).toBeNull();
  });

  it('[R3][E2] two clients using the same key: the asker never gets its own value back, and a departure shows the other’s', () => {
    const state = new EphemeralState();
    state.apply('a', [{ shared: { _exists: true, by: 'a' } }]);
    state.apply('b', [{ shared: { _exists: true, by: 'b' } }]);
    expect(plain(state.othersThan('b'))).toEqual({ shared: { _exists: true, by: 'a' } });
    expect(plain(state.othersThan('a'))).toEqual({ shared: { _exists: true, by: 'b' } });
    expect(plain(state.othersThan('c'))).toEqual({ shared: { _exists: true, by: 'b' } });
    state.forget('b');
    expect(plain(state.othersThan('c'))).toEqual({ shared: { _exists: true, by: 'a' } });
    expect(state.othersThan('a')).toBeNull();
  });

  it('[R3] fieldsOf reads one client’s live key for the presence tick', () => {
    const state = new EphemeralState();
    state.apply('a', [{ 'cursor/a': { _exists: true, x: 1 } }]);
    expect(plain(state.fieldsOf('a', 'cursor/a'))).toEqual({ _exists: true, x: 1 });
    expect(state.fieldsOf('b', 'cursor/a')).toBeUndefined();
    expect(state.fieldsOf('a', 'nothing')).toBeUndefined();
  });
});
