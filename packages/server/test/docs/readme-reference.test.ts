import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloseCode, DEFAULT_ROOM_LIMITS } from '../../src/index.js';
import { OPTION_SPECS } from '../../src/server/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', '..', 'README.md'), 'utf8');

describe('README reference tables stay in step with the code', () => {
  it.each(OPTION_SPECS.map((spec) => [spec.flag, spec.env] as const))(
    '[docs] the configuration table documents %s and %s',
    (flag, env) => {
      const row = readme.split('\n').find((line) => line.includes(`\`${flag}\``));
      expect(row, `no README row for ${flag}`).toBeDefined();
      expect(row).toContain(`\`${env}\``);
    },
  );

  it.each(Object.entries(CloseCode))('[docs][B3] the close-code table documents %s (%i)', (name, code) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| ${code} `));
    expect(row, `no README row for close code ${code}`).toBeDefined();
    expect(row).toContain(`\`${name}\``);
  });

  it.each(Object.keys(DEFAULT_ROOM_LIMITS))('[docs][B4] the limits table documents %s', (limit) => {
    expect(readme).toMatch(new RegExp(`\\| \`${limit}\`|\`${limit}\` /|/ \`${limit}\``));
  });
});
