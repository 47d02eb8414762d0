/**
 * The docs tell the truth (issue 12 items 8 and 9): every relative link points
 * at a file that exists, no page cites a file the repository does not have,
 * every environment variable a page names is one the server or example reads,
 * the README stays short, and what newcomers tripped over is written down.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTION_SPECS } from '../../src/server/index.js';
import { documentedFiles, ROOT } from './doc-blocks.js';

/** Variables the docs may name besides the server's own options. */
const OTHER_VARIABLES = new Set([
  'CANVAS_STORE_TEST_PG_URL',
  'CANVAS_STORE_BENCH_PG_URL',
  'CANVAS_TEST_LONG',
  'CI',
  'JWT_SECRET',
  'ADMIN_SECRET',
]);

const PAGES = documentedFiles().map((path) => ({
  path,
  page: relative(ROOT, path),
  text: readFileSync(path, 'utf8'),
}));

function links(text: string): string[] {
  return Array.from(text.matchAll(/\]\(([^)\s]+)\)/g), (m) => m[1] as string).filter(
    (target) => !/^(https?:|mailto:|#)/.test(target),
  );
}

describe('[docs] links and references', () => {
  it.each(PAGES.map((p) => [p.page, p] as const))(
    '[docs] every relative link of %s resolves',
    (_page, { path, text }) => {
      const broken = links(text)
        .map((target) => relative(ROOT, join(dirname(path), target.split('#')[0] as string)))
        .filter((target) => !existsSync(join(ROOT, target)));
      expect(broken).toEqual([]);
    },
  );

  it.each(PAGES.map((p) => [p.page, p] as const))(
    '[docs] %s cites no SPEC.md (the contract is docs/protocol.md)',
    (_page, { text }) => {
      expect(text).not.toMatch(/SPEC\.md/);
    },
  );

  it.each(PAGES.map((p) => [p.page, p] as const))(
    '[docs] every variable %s names is one something reads',
    (_page, { text }) => {
      const known = new Set([...OPTION_SPECS.map((spec) => spec.env), ...OTHER_VARIABLES]);
      // Variables of ours start with CANVAS_; a bare DATA_DIR once sent users to the wrong one.
      const named = Array.from(text.matchAll(/\b(CANVAS_[A-Z0-9_]+|[A-Z]+_DIR)\b/g), (m) => m[1] as string);
      expect(named.filter((name) => !known.has(name))).toEqual([]);
    },
  );

  it('[docs] the README is short: what it is, two commands, a tour and links', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(100);
    for (const page of [
      'operations',
      'library',
      'protocol',
      'compatibility',
      'limits',
      'security',
      'performance',
      'reliability',
      'architecture',
      'whiteboard',
    ]) {
      expect(readme).toContain(`](docs/${page}.md)`);
    }
  });
});

describe('[docs] what tripped newcomers up is written down', () => {
  const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('[docs] npm start takes server options after --', () => {
    expect(readme).toContain('npm start -- --port 9000');
    expect(operations).toMatch(/npm start -- --port/);
    expect(`${readme}${operations}`).not.toMatch(/npm start runs `?examples\/basic-server/);
  });

  it('[docs] the values of CANVAS_SERVE_CLIENT are documented', () => {
    const row = operations.split('\n').find((line) => line.includes('`CANVAS_SERVE_CLIENT`'));
    expect(row).toMatch(/`true`/);
    expect(row).toMatch(/`false`/);
  });

  it('[docs] a C++ toolchain may be needed to build better-sqlite3', () => {
    expect(operations).toMatch(/better-sqlite3[\s\S]{0,300}C\+\+\s+compiler/);
    expect(readFileSync(join(ROOT, 'packages', 'server', 'README.md'), 'utf8')).toMatch(/C\+\+\s+compiler/);
  });

  it('[docs] packages/server has a README that npm publishes', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', 'server', 'package.json'), 'utf8')) as {
      name: string;
    };
    const serverReadme = readFileSync(join(ROOT, 'packages', 'server', 'README.md'), 'utf8');
    expect(serverReadme.startsWith(`# ${manifest.name}\n`)).toBe(true);
  });
});
