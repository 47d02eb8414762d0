/**
 * The reference tables of the docs stay in step with the code: every option of
 * the server command has a row in docs/operations.md, every close code one in
 * docs/protocol.md, every room limit one in docs/library.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloseCode, DEFAULT_ROOM_LIMITS } from '../../src/index.js';
import { OPTION_SPECS } from '../../src/server/index.js';

const docs = join(import.meta.dirname, '..', '..', '..', '..', 'docs');
const operations = readFileSync(join(docs, 'operations.md'), 'utf8');
const protocol = readFileSync(join(docs, 'protocol.md'), 'utf8');
const library = readFileSync(join(docs, 'library.md'), 'utf8');

describe('docs reference tables stay in step with the code', () => {
  it.each(OPTION_SPECS.map((spec) => [spec.flag, spec.env] as const))(
    '[docs] the configuration table of docs/operations.md documents %s and %s',
    (flag, env) => {
      const row = operations.split('\n').find((line) => line.includes(`\`${flag}\``));
      expect(row, `no docs/operations.md row for ${flag}`).toBeDefined();
      expect(row).toContain(`\`${env}\``);
    },
  );

  it.each(Object.entries(CloseCode))(
    '[docs][B3] the close-code table of docs/protocol.md documents %s (%i)',
    (name, code) => {
      const row = protocol.split('\n').find((line) => line.startsWith(`| ${code} `));
      expect(row, `no docs/protocol.md row for close code ${code}`).toBeDefined();
      expect(row).toContain(`\`${name}\``);
    },
  );

  it.each(Object.keys(DEFAULT_ROOM_LIMITS))(
    '[docs][B4] the limits table of docs/library.md documents %s',
    (limit) => {
      expect(library).toMatch(new RegExp(`\\| \`${limit}\`|\`${limit}\` /|/ \`${limit}\``));
    },
  );
});
