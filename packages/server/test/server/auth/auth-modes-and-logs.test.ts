/**
 * Development mode (no auth configured) and the promise that tokens never
 * reach a log line, even at debug level with a logger that redacts nothing.
 */

import { CloseCode } from 'canvas-store-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  captureLogger,
  cleanupAll,
  shape,
  startServer,
  WireClient,
  waitUntil,
} from '../../harness/server-harness.js';
import { claims, epochIn, hsToken, OTHER_SECRET, SECRET } from './token-helpers.js';

afterEach(cleanupAll);

const DEV_WARNING = /development mode/;

describe('auth disabled (development mode)', () => {
  it('[auth] logs a development-mode warning at startup', async () => {
    const logs = captureLogger('info');
    const started = await startServer({}, { logger: logs.logger });
    expect(started.port).toBeGreaterThan(0);
    const warnings = logs.entries().filter((e) => e.level === 40 && DEV_WARNING.test(String(e.msg)));
    expect(warnings).toHaveLength(1);
  });

  it('[auth] accepts any token with write access', async () => {
    const started = await startServer();
    const tokens = [
      'anything',
      await hsToken(claims('another-room'), SECRET),
      await hsToken(claims('room-1', { exp: epochIn(-3600) }), SECRET),
    ];
    const observer = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'obs', token: 'x' });
    for (const [i, token] of tokens.entries()) {
      const client = await WireClient.join(started.port, { roomId: 'room-1', clientId: `c${i}`, token });
      const ack = await client.write(`m${i}`, [shape(`e${i}/Shape`, { i })]);
      expect(ack.timestamp).toBe(i + 1);
      await observer.waitForFrame((f) => f.clientId === `c${i}` && f.type === 'patch', `broadcast ${i}`);
    }
    const room = started.server.manager.getExistingRoom('room-1');
    expect(room?.getSessions().every((s) => s.permissions === 'readwrite')).toBe(true);
    expect(Object.keys(room?.getSnapshot().state ?? {})).toEqual(['e0/Shape', 'e1/Shape', 'e2/Shape']);
  });

  it('[auth] with auth-refresh frames the session keeps write access', async () => {
    const started = await startServer();
    const client = await WireClient.join(started.port, { roomId: 'r', clientId: 'c', token: 'a' });
    client.send({ type: 'auth-refresh', token: 'whatever' });
    expect((await client.write('m1', [shape('e1/Shape', { x: 1 })])).timestamp).toBe(1);
    expect(client.isOpen).toBe(true);
  });

  it('[auth] no development warning when JWT auth is configured', async () => {
    const logs = captureLogger('debug');
    await startServer({ jwtSecret: SECRET }, { logger: logs.logger });
    await waitUntil(() => logs.text().includes('listening'), 'the listening log line');
    expect(logs.text()).not.toMatch(DEV_WARNING);
    expect(logs.entries().find((e) => /listening/.test(String(e.msg)))).toMatchObject({ auth: 'jwt' });
  });
});

/** The full token and its payload and signature segments: none may appear in a log. */
function secretsOf(token: string): string[] {
  const [, payload, signature] = token.split('.');
  return [token, payload, signature].filter((part): part is string => !!part && part.length > 8);
}

describe('tokens never appear in logs', () => {
  it('[auth] not through connects, refusals, refreshes and expiry (JWT mode, debug level)', async () => {
    const logs = captureLogger('debug');
    const started = await startServer({ jwtSecret: SECRET }, { logger: logs.logger });
    const { port } = started;
    const tokens: string[] = [];
    const mint = async (p: Parameters<typeof hsToken>[0], secret = SECRET) => {
      const token = await hsToken(p, secret);
      tokens.push(token);
      return token;
    };

    const good = await WireClient.join(port, {
      roomId: 'room-1',
      clientId: 'c1',
      token: await mint(claims('room-1')),
    });
    await good.write('m1', [shape('e1/Shape', { x: 1 })]);
    const refusals: Array<[string, number]> = [
      [await mint(claims('room-1'), OTHER_SECRET), CloseCode.Unauthorized],
      [await mint(claims('room-1', { exp: epochIn(-60) })), CloseCode.TokenExpired],
      [await mint(claims('room-2')), CloseCode.Forbidden],
      ['garbage-token-value-123456789', CloseCode.Unauthorized],
    ];
    tokens.push('garbage-token-value-123456789');
    for (const [token, code] of refusals) {
      const client = await WireClient.refused(port, { roomId: 'room-1', clientId: 'x', token });
      expect(client.closeCode).toBe(code);
    }
    good.send({ type: 'auth-refresh', token: await mint(claims('room-1', { name: 'refreshed' })) });
    await good.write('m2', [shape('e1/Shape', { x: 2 })]);
    good.send({ type: 'auth-refresh', token: await mint(claims('room-1'), OTHER_SECRET) });
    expect(await good.waitForClose()).toBe(CloseCode.Forbidden);
    const expiring = await WireClient.join(port, {
      roomId: 'room-1',
      clientId: 'c2',
      token: await mint(claims('room-1', { exp: epochIn(3) })),
    });
    expect(await expiring.waitForClose()).toBe(CloseCode.TokenExpired);

    // The events were logged (so the check below is not vacuous)...
    const messages = logs.entries().map((e) => String(e.msg));
    expect(messages.filter((m) => m === 'connection refused')).toHaveLength(refusals.length);
    expect(messages).toContain('session connected');
    expect(messages).toContain('auth-refresh refused');
    // ...and no token, nor its payload or signature, is in any line.
    const text = logs.text();
    for (const token of tokens) {
      for (const part of secretsOf(token)) expect(text).not.toContain(part);
    }
  });

  it('[auth] not in development mode either, nor in the session-closed logs', async () => {
    const logs = captureLogger('debug');
    const started = await startServer({}, { logger: logs.logger });
    const token = 'dev-mode-token-that-must-stay-secret';
    const client = await WireClient.join(started.port, { roomId: 'room-1', clientId: 'c', token });
    client.send({ type: 'auth-refresh', token: `${token}-refresh` });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    client.close();
    await client.waitForClose();
    await waitUntil(() => logs.text().includes('session closed'), 'the session closed log line');
    expect(logs.text()).not.toContain(token);
  });
});
