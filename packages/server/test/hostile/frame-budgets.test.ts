/**
 * SPEC B6 at the parser: buffer deltas share one per-frame budget of
 * materialised entries, and nesting is refused by a linear scan of the raw
 * text before `JSON.parse` runs.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAME_LIMITS, type FrameLimits, parseClientFrame } from '../../src/index.js';

const limits = (overrides: Partial<FrameLimits> = {}): FrameLimits => ({
  ...DEFAULT_FRAME_LIMITS,
  ...overrides,
});

function deltas(count: number, len: number, list = 'documentPatches'): string {
  const keys = Array.from({ length: count }, (_, i) => `"k${i}/B":{"b":{"__buf":1,"len":${len},"runs":[]}}`);
  return `{"type":"patch","messageId":"m","${list}":[{${keys.join(',')}}]}`;
}

describe('[B6] per-frame buffer budget', () => {
  it('[B6] deltas whose lengths sum to the budget are accepted', () => {
    const result = parseClientFrame(deltas(10, 100), limits({ maxBufferEntriesPerFrame: 1_000 }));
    expect(result.ok).toBe(true);
  });

  it('[B6] one entry over the budget refuses the whole frame with buffer-budget-exceeded', () => {
    const result = parseClientFrame(deltas(10, 100), limits({ maxBufferEntriesPerFrame: 999 }));
    expect(result).toMatchObject({ ok: false, error: { code: 'buffer-budget-exceeded', messageId: 'm' } });
  });

  it('[B6] document and ephemeral deltas of one frame share the budget', () => {
    const both = `{"type":"patch","messageId":"m","documentPatches":[{"a/B":{"b":{"__buf":1,"len":600,"runs":[]}}}],"ephemeralPatches":[{"c/B":{"b":{"__buf":1,"len":600,"runs":[]}}}]}`;
    expect(parseClientFrame(both, limits({ maxBufferEntriesPerFrame: 1_000 }))).toMatchObject({
      ok: false,
      error: { code: 'buffer-budget-exceeded' },
    });
    expect(
      parseClientFrame(deltas(2, 600, 'ephemeralPatches'), limits({ maxBufferEntriesPerFrame: 1_000 })),
    ).toMatchObject({
      ok: false,
      error: { code: 'buffer-budget-exceeded' },
    });
  });

  it('[B6] the ~150 KB frame of issue 11 (3,000 deltas of 100,000) is refused at the default budget', () => {
    const raw = deltas(3_000, 100_000);
    expect(raw.length).toBeLessThan(160_000);
    expect(parseClientFrame(raw, DEFAULT_FRAME_LIMITS)).toMatchObject({
      ok: false,
      error: { code: 'buffer-budget-exceeded' },
    });
  });
});

describe('[B6] depth scan before parsing', () => {
  it('[B6] a 2 MiB nested frame is refused as too-deep and still names its messageId', () => {
    const depth = 1_000_000;
    const raw = `{"type":"patch","messageId":"deep-1","documentPatches":[{"e/C":{"v":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
    expect(parseClientFrame(raw, DEFAULT_FRAME_LIMITS)).toEqual({
      ok: false,
      error: { code: 'too-deep', message: expect.any(String), messageId: 'deep-1' },
    });
  });

  it('[B6] a field value exactly at the configured depth is accepted', () => {
    const raw = `{"type":"patch","messageId":"m","documentPatches":[{"e/C":{"v":${'['.repeat(32)}${']'.repeat(32)}}}]}`;
    expect(parseClientFrame(raw, DEFAULT_FRAME_LIMITS).ok).toBe(true);
  });
});
