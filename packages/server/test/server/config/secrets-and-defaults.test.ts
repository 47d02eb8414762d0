import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/server/config/load-config.js';
import { ConfigError } from '../../../src/server/config/server-config.js';

const JWT_SECRET = 'a-jwt-secret-of-at-least-32-characters!';
const ADMIN_SECRET = 'an-admin-secret-16+';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-files-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function secretFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

describe('[B10] secrets from the environment or a file', () => {
  it('[B10] --jwt-secret-file and --admin-secret-file are read, one trailing newline dropped', () => {
    const config = loadConfig(
      [
        '--jwt-secret-file',
        secretFile('jwt', `${JWT_SECRET}\n`),
        '--admin-secret-file',
        secretFile('admin', `${ADMIN_SECRET}\r\n`),
      ],
      {},
    );
    expect(config.jwtSecret).toBe(JWT_SECRET);
    expect(config.adminSecret).toBe(ADMIN_SECRET);
    expect(config.auth).toBe('jwt');
  });

  it('[B10] the file variables work as the flags do, and the secret variables too', () => {
    const fromFiles = loadConfig([], {
      CANVAS_JWT_SECRET_FILE: secretFile('jwt', JWT_SECRET),
      CANVAS_ADMIN_SECRET_FILE: secretFile('admin', ADMIN_SECRET),
    });
    expect([fromFiles.jwtSecret, fromFiles.adminSecret]).toEqual([JWT_SECRET, ADMIN_SECRET]);
    const fromEnv = loadConfig([], { CANVAS_JWT_SECRET: JWT_SECRET, CANVAS_ADMIN_SECRET: ADMIN_SECRET });
    expect([fromEnv.jwtSecret, fromEnv.adminSecret]).toEqual([JWT_SECRET, ADMIN_SECRET]);
  });

  it('[B10] a secret given twice, an unreadable file or a short secret in a file is a configuration error', () => {
    const file = secretFile('jwt', JWT_SECRET);
    expect(() => loadConfig(['--jwt-secret-file', file, '--jwt-secret', JWT_SECRET], {})).toThrow(/not both/);
    expect(() => loadConfig(['--admin-secret-file', join(dir, 'missing')], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--admin-secret-file', secretFile('short', 'short\n')], {})).toThrow(
      /short \(--admin-secret-file\): must be at least 16/,
    );
  });
});

describe('[B10] safe defaults without auth', () => {
  it('[B10] with auth none the server binds loopback unless a host is given; with JWT it binds all interfaces', () => {
    expect(loadConfig([], {}).host).toBe('127.0.0.1');
    expect(loadConfig(['--host', '0.0.0.0'], {}).host).toBe('0.0.0.0');
    expect(loadConfig([], { HOST: '::' }).host).toBe('::');
    expect(loadConfig(['--jwt-secret', JWT_SECRET], {}).host).toBe('0.0.0.0');
  });

  it('[B10] --allow-any-origin and --bind-client-id are switches; their variables take true or false', () => {
    expect(loadConfig([], {})).toMatchObject({ allowAnyOrigin: false, bindClientId: false });
    expect(loadConfig(['--allow-any-origin', '--bind-client-id'], {})).toMatchObject({
      allowAnyOrigin: true,
      bindClientId: true,
    });
    expect(loadConfig([], { CANVAS_ALLOW_ANY_ORIGIN: 'true', CANVAS_BIND_CLIENT_ID: '0' })).toMatchObject({
      allowAnyOrigin: true,
      bindClientId: false,
    });
    expect(() => loadConfig([], { CANVAS_ALLOW_ANY_ORIGIN: 'maybe' })).toThrow(ConfigError);
  });
});
