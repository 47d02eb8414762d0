import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Issue 13: the browser client must not pull the server (better-sqlite3, pg, ws)
// in for protocol types, and the protocol package must stay usable in a browser.

const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function packageJson(name: string): PackageJson {
  return JSON.parse(readFileSync(join(PACKAGES, name, 'package.json'), 'utf8')) as PackageJson;
}

/** Every module specifier a source file imports or re-exports, static or dynamic. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((ref) => ref.fileName);
}

function sourceFiles(folder: string): string[] {
  const dir = join(PACKAGES, folder);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(dir, name));
}

const NODE_BUILTINS = new Set(builtinModules);

function isServerOrNode(specifier: string): boolean {
  return (
    specifier === 'canvas-store-server' ||
    specifier.startsWith('canvas-store-server/') ||
    specifier.startsWith('node:') ||
    NODE_BUILTINS.has(specifier.split('/')[0] as string)
  );
}

describe('package boundaries (issue 13)', () => {
  it('the client depends on the protocol and not on the server', () => {
    const client = packageJson('client');
    expect(Object.keys(client.dependencies ?? {})).toEqual(['canvas-store-protocol']);
    expect(client.peerDependencies?.['canvas-store-server']).toBeUndefined();
    expect(client.optionalDependencies?.['canvas-store-server']).toBeUndefined();
  });

  it('the whiteboard depends only on the client or the protocol', () => {
    const deps = Object.keys(packageJson('whiteboard').dependencies ?? {});
    expect(deps.length).toBeGreaterThan(0);
    for (const dep of deps) expect(['canvas-store-client', 'canvas-store-protocol']).toContain(dep);
  });

  it('the protocol depends on nothing', () => {
    const protocol = packageJson('protocol');
    expect(protocol.dependencies ?? {}).toEqual({});
    expect(protocol.peerDependencies ?? {}).toEqual({});
    expect(protocol.optionalDependencies ?? {}).toEqual({});
  });

  it('no client, whiteboard or protocol source imports the server package or a Node module', () => {
    const files = [
      ...sourceFiles('client/src'),
      ...sourceFiles('whiteboard/src'),
      ...sourceFiles('protocol/src'),
    ];
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter(isServerOrNode)
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('protocol sources import only each other', () => {
    const files = sourceFiles('protocol/src');
    expect(files.length).toBeGreaterThan(5);
    const outside = files.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => !specifier.startsWith('./'))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(outside).toEqual([]);
  });

  it('the import scan sees server and Node imports (the check above can fail)', () => {
    expect(isServerOrNode('canvas-store-server')).toBe(true);
    expect(isServerOrNode('canvas-store-server/protocol')).toBe(true);
    expect(isServerOrNode('node:crypto')).toBe(true);
    expect(isServerOrNode('fs/promises')).toBe(true);
    expect(isServerOrNode('canvas-store-protocol')).toBe(false);
    const probe = join(PACKAGES, 'protocol', 'test', 'package-boundaries.test.ts');
    expect(importsOf(probe)).toEqual(expect.arrayContaining(['node:fs', 'typescript', 'vitest']));
  });
});
