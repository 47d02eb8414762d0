/** docs/limits.md stays in step with the code: every limit, every new option and every quota code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROOM_LIMITS } from '../../src/index.js';
import { OPTION_SPECS } from '../../src/server/index.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'limits.md'), 'utf8');

/** Limits documented inside another row (the bursts go with their rates; the invalid-frame budget in the text). */
const DOCUMENTED_WITH_OTHERS = new Set(['frameBurst', 'byteBurst', 'maxInvalidFramesPerMinute']);

describe('docs/limits.md documents every limit', () => {
  it.each(Object.keys(DEFAULT_ROOM_LIMITS).filter((name) => !DOCUMENTED_WITH_OTHERS.has(name)))(
    '[docs][B6][B7] %s has a row',
    (limit) => {
      expect(doc).toContain(`| \`${limit}\``);
    },
  );

  it.each(
    OPTION_SPECS.filter((spec) => spec.key.startsWith('max') || spec.key.endsWith('PerSecond')).map(
      (spec) => [spec.flag.split(' ')[0] as string, spec.env] as const,
    ),
  )('[docs][B6][B7] the option %s / %s is named', (flag, env) => {
    expect(doc).toContain(`\`${flag}\` / \`${env}\``);
  });

  it.each([
    'buffer-budget-exceeded',
    'room-key-quota',
    'room-bytes-quota',
    'ephemeral-key-quota',
    'ephemeral-bytes-quota',
  ])('[docs][B7] the error code %s is documented', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });
});
