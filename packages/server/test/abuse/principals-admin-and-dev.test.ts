/**
 * Abuse suite, admin API and development mode (SPEC B8, B10, issue 11)
 * against the real server process: guessing the admin secret, NUL and
 * over-long ids on the admin API (also on PostgreSQL), a foreign page
 * opening a developer's boards, secrets kept off the command line, and the
 * pages' Content-Security-Policy.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attempt,
  HealthzSampler,
  httpFrom,
  recordAbuseFigures,
} from '../harness/abuse/principals-harness.js';
import { scaled, startProbedServer } from '../harness/reliability-harness.js';
import { cleanup, metric, ServerProcess, tempDir } from '../harness/server-process.js';
import { IN_CI, postgresProblem, TEST_PG_URL } from '../helpers/postgres.js';
import { SECRET } from '../server/auth/token-helpers.js';

afterEach(cleanup);

const ADMIN_SECRET = 'correct-horse-battery-staple';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

const pgProblem = await postgresProblem(TEST_PG_URL);
const storages: Array<{ name: string; args: string[] }> = [
  { name: 'memory', args: ['--storage', 'memory'] },
  { name: 'sqlite', args: ['--storage', 'sqlite', '--data-dir', '{TMP}'] },
];
if (!pgProblem || IN_CI)
  storages.push({ name: 'postgres', args: ['--storage', 'postgres', '--postgres-url', TEST_PG_URL] });

describe('[B8] admin secret guessing', () => {
  it('[B8] after --admin-failures-per-minute wrong secrets an address gets 429 with Retry-After; other addresses keep the API', async () => {
    const ALLOWED = 5;
    const GUESSES = scaled(300, 5_000);
    const { server } = await startProbedServer({
      args: [
        '--storage',
        'memory',
        '--admin-secret',
        ADMIN_SECRET,
        '--admin-failures-per-minute',
        String(ALLOWED),
      ],
    });
    const sampler = new HealthzSampler(server.port);
    const statuses: Record<number, number> = {};
    let retryAfter = 0;
    for (let i = 0; i < GUESSES; i++) {
      const res = await httpFrom(server.port, '/admin/rooms', {
        headers: bearer(`guess-${i}-of-the-secret`),
      });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 429) retryAfter = Number(res.headers['retry-after']);
    }
    const loop = await sampler.stop();
    expect(statuses).toEqual({ 401: ALLOWED, 429: GUESSES - ALLOWED });
    // 60 s / 5 per minute: about 12 s until the next guess is allowed.
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60 / ALLOWED);
    // Even the right secret waits from the guessing address; another address is served.
    expect((await httpFrom(server.port, '/admin/rooms', { headers: bearer(ADMIN_SECRET) })).status).toBe(429);
    const other = await httpFrom(server.port, '/admin/rooms', {
      from: '127.0.0.3',
      headers: bearer(ADMIN_SECRET),
    });
    expect(other.status).toBe(200);
    const samples = await server.metrics();
    expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'admin-secret-failures' })).toBe(
      GUESSES - ALLOWED + 1,
    );
    recordAbuseFigures('principals-admin-guessing', {
      guesses: GUESSES,
      allowedPerMinute: ALLOWED,
      answered401: statuses[401],
      answered429: statuses[429],
      retryAfterSeconds: retryAfter,
      ...loop,
    });
  });

  it.each(storages)(
    '[B8][B9] NUL, over-long and lone-surrogate ids on the admin API answer 400, not 500 ($name storage)',
    async ({ args }) => {
      const storageArgs = args.map((arg) => (arg === '{TMP}' ? tempDir() : arg));
      const server = await ServerProcess.start({ args: [...storageArgs, '--admin-secret', ADMIN_SECRET] });
      const headers = bearer(ADMIN_SECRET);
      const bad = [
        ['GET', '/admin/rooms/a%00b'],
        ['GET', '/admin/rooms/a%00b/document'],
        ['POST', '/admin/rooms/a%00b/patches'],
        ['DELETE', '/admin/rooms/a%00b'],
        ['GET', `/admin/rooms/${'x'.repeat(513)}`],
        ['GET', '/admin/rooms/%ED%A0%80'],
        ['DELETE', '/admin/rooms/room/sessions/s%00'],
      ];
      for (const [method, path] of bad) {
        const res = await httpFrom(server.port, path as string, { method, headers });
        expect(res.status, `${method} ${path}: ${res.text}`).toBe(400);
      }
      expect((await httpFrom(server.port, '/admin/rooms/fine', { headers })).status).toBe(200);
      expect(server.logs().filter((line) => line.msg === 'admin request failed')).toEqual([]);
    },
  );
});

describe('[B10] development mode is safe by default', () => {
  it('[B10] without auth the server listens on loopback, refuses foreign pages (403) and admits same-origin pages and non-browsers', async () => {
    const server = await ServerProcess.start({
      loopbackFlags: false,
      args: ['--port', '0', '--storage', 'memory'],
    });
    const listening = server.logs().find((line) => line.msg === 'canvas-store-server listening');
    expect(listening?.host).toBe('127.0.0.1');
    const foreign = await attempt(server, 'board', 'evil', { origin: 'https://evil.example' });
    expect(foreign).toEqual({ status: 403 });
    const lookalike = await attempt(server, 'board', 'evil', {
      origin: `http://127.0.0.1.evil.example:${server.port}`,
    });
    expect(lookalike).toEqual({ status: 403 });
    expect(
      'open' in (await attempt(server, 'board', 'page', { origin: `http://127.0.0.1:${server.port}` })),
    ).toBe(true);
    expect('open' in (await attempt(server, 'board', 'node-client'))).toBe(true);
    const samples = await server.metrics();
    expect(metric(samples, 'canvas_connections_refused_total', { code: '403' })).toBe(2);
    recordAbuseFigures('principals-dev-mode', {
      host: listening?.host,
      foreignOrigin: 403,
      sameOrigin: 'open',
    });
  });

  it('[B10] --allow-any-origin lets foreign pages in without auth; JWT mode does not restrict origins', async () => {
    const open = await ServerProcess.start({ args: ['--storage', 'memory', '--allow-any-origin'] });
    expect('open' in (await attempt(open, 'board', 'page', { origin: 'https://elsewhere.example' }))).toBe(
      true,
    );
    const jwt = await ServerProcess.start({ args: ['--storage', 'memory', '--jwt-secret', SECRET] });
    // The JWT is the credential there: a foreign page without a valid token is refused by auth, not by origin.
    expect(
      await attempt(jwt, 'board', 'page', { origin: 'https://elsewhere.example', token: 'bad' }),
    ).toEqual({
      code: 4401,
    });
  });

  it('[B10] secrets given by file never appear on the command line', async () => {
    const dir = tempDir();
    const adminFile = join(dir, 'admin-secret');
    const jwtFile = join(dir, 'jwt-secret');
    writeFileSync(adminFile, `${ADMIN_SECRET}\n`, { mode: 0o600 });
    writeFileSync(jwtFile, `${SECRET}\n`, { mode: 0o600 });
    const server = await ServerProcess.start({
      args: ['--storage', 'memory', '--jwt-secret-file', jwtFile],
      env: { CANVAS_ADMIN_SECRET_FILE: adminFile },
    });
    const cmdline = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(ADMIN_SECRET);
    expect(cmdline).not.toContain(SECRET);
    expect((await httpFrom(server.port, '/admin/rooms', { headers: bearer(ADMIN_SECRET) })).status).toBe(200);
    expect(server.logs().find((line) => line.msg === 'canvas-store-server listening')?.auth).toBe('jwt');
  });

  it('[B10] / and /inspect carry a Content-Security-Policy that forbids framing', async () => {
    const server = await ServerProcess.start({ args: ['--storage', 'memory'] });
    for (const path of ['/', '/inspect']) {
      const res = await httpFrom(server.port, path);
      expect(res.status, path).toBe(200);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("default-src 'self'");
    }
  });
});
