import { describe, expect, it } from 'vitest';
import { withinDepth } from '../src/index.js';

// Moved from packages/server/test/hostile/frame-budgets.test.ts with the function.
describe('[B6] depth scan before parsing', () => {
  it('[B6] counts objects and arrays, not brackets inside strings or after escapes', () => {
    expect(withinDepth('{"a":[[1]]}', 3)).toBe(true);
    expect(withinDepth('{"a":[[[1]]]}', 3)).toBe(false);
    expect(withinDepth(`{"s":"${'['.repeat(100)}"}`, 1)).toBe(true);
    expect(withinDepth(`{"s":"\\"${'['.repeat(100)}"}`, 1)).toBe(true);
    expect(withinDepth(`{"s":"\\\\","t":[[1]]}`, 2)).toBe(false);
  });
});
