import { describe, expect, it } from 'vitest';
import {
  checkFramePatches,
  checkPatchList,
  DEFAULT_FRAME_LIMITS,
  type FrameLimits,
  isForbiddenName,
  isStorableName,
} from '../src/index.js';

const limits = (overrides: Partial<FrameLimits>): FrameLimits => ({ ...DEFAULT_FRAME_LIMITS, ...overrides });

describe('patch validation (SPEC B2, B6)', () => {
  it('[B2] valid patch lists come back as they were sent', () => {
    const document = [{ 'e1/Pos': { _exists: true, x: 1, pts: { __buf: 1, len: 2, runs: [] } } }];
    const ephemeral = [{ 'presence/c1': { _exists: true, cursor: [1, 2] } }];
    const result = checkFramePatches(document, ephemeral, DEFAULT_FRAME_LIMITS);
    expect(result).toEqual({ ok: true, documentPatches: document, ephemeralPatches: ephemeral });
    expect(checkFramePatches(undefined, undefined, DEFAULT_FRAME_LIMITS)).toEqual({
      ok: true,
      documentPatches: undefined,
      ephemeralPatches: undefined,
    });
  });

  it('[B2] document and ephemeral patches share one key budget', () => {
    const result = checkFramePatches([{ a: {} }], [{ b: {} }], limits({ maxKeysPerFrame: 1 }));
    expect(result).toEqual({
      ok: false,
      error: { code: 'too-many-keys', message: 'frame holds more than 1 keys' },
    });
  });

  it('[B2] forbidden names, unstorable names and deep values are refused with their codes', () => {
    const refused = (patches: unknown[], overrides: Partial<FrameLimits> = {}) => {
      const result = checkPatchList(patches, limits(overrides));
      return result.ok ? 'accepted' : result.error.code;
    };
    expect(refused([{ k: { constructor: 1 } }])).toBe('forbidden-name');
    expect(refused([{ 'k\u0000': { x: 1 } }])).toBe('forbidden-name');
    expect(refused([{ k: { x: { a: { b: 1 } } } }], { maxDepth: 1 })).toBe('too-deep');
    expect(refused([{ k: { x: { __buf: 1, len: -1, runs: [] } } }])).toBe('invalid-buffer-delta');
    expect(refused([{ k: { _exists: 'yes' } }])).toBe('invalid-component');
    expect(refused([[]])).toBe('invalid-patch');
    expect(refused([{ k: { x: 1 } }])).toBe('accepted');
  });

  it('[B2] checkPatchList refuses a value that is not a list', () => {
    expect(checkPatchList({}, DEFAULT_FRAME_LIMITS)).toEqual({
      ok: false,
      error: { code: 'invalid-field', message: 'patches must be an array' },
    });
  });

  it('[B2] names: forbidden ones, NUL and unpaired surrogates', () => {
    expect(['__proto__', 'constructor', 'prototype'].every(isForbiddenName)).toBe(true);
    expect(isForbiddenName('proto')).toBe(false);
    expect(isStorableName('e1/Pos 😀')).toBe(true);
    expect(isStorableName('a\u0000b')).toBe(false);
    expect(isStorableName('a\ud800b')).toBe(false);
  });

  it('[B2] names are checked the same without String.prototype.isWellFormed (older browsers)', () => {
    const proto = String.prototype as { isWellFormed?: () => boolean };
    const native = proto.isWellFormed;
    delete proto.isWellFormed;
    try {
      expect(isStorableName('e1/Pos 😀')).toBe(true);
      expect(isStorableName('a\ud800b')).toBe(false);
      expect(isStorableName('\udc00')).toBe(false);
    } finally {
      proto.isWellFormed = native;
    }
  });
});
