/**
 * Abuse suite, names and patterns from outside (SPEC B9, issue 11) against
 * the real server process: a pathological wildcard room claim, room ids that
 * collide on case-insensitive or reserved-name file systems, and clientIds
 * bound to the token subject.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CloseCode } from 'canvas-store-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { attempt, HealthzSampler, recordAbuseFigures } from '../harness/abuse/principals-harness.js';
import { scaled, startProbedServer } from '../harness/reliability-harness.js';
import { cleanup, documentOf, ServerProcess, tempDir } from '../harness/server-process.js';
import { claims, hsToken, SECRET } from '../server/auth/token-helpers.js';

afterEach(cleanup);

describe('[B9] names and patterns from outside', () => {
  it('[B9] a pathological wildcard claim against the longest room id is refused at once; bystanders are served', async () => {
    const { server } = await startProbedServer({ args: ['--storage', 'memory', '--jwt-secret', SECRET] });
    const sampler = new HealthzSampler(server.port);
    // A backtracking regex needs minutes for this claim against 512 characters of `a`.
    const claim = `${'*a'.repeat(30)}*b`;
    const token = await hsToken(claims(claim, { sub: 'mallory' }));
    const ATTEMPTS = scaled(20, 500);
    for (let i = 0; i < ATTEMPTS; i++) {
      expect(await attempt(server, 'a'.repeat(512), `m${i}`, { token })).toEqual({
        code: CloseCode.Forbidden,
      });
    }
    const alice = await hsToken(claims('team/*', { sub: 'alice', permission: 'readwrite' }));
    const bystander = await attempt(server, 'team/board', 'alice', { token: alice, from: '127.0.0.2' });
    if (!('open' in bystander)) throw new Error(`bystander refused: ${JSON.stringify(bystander)}`);
    expect(await bystander.open.write([{ 'e/P': { v: 1 } }])).toMatchObject({ type: 'ack' });
    recordAbuseFigures('principals-wildcard', {
      claim,
      roomIdLength: 512,
      attempts: ATTEMPTS,
      outcome: 'all refused 4403',
      ...(await sampler.stop()),
    });
  });

  it('[B9] Board, board, BOARD, CON and con are distinct rooms with files that differ after case folding, across a restart', async () => {
    const dataDir = tempDir();
    const args = ['--storage', 'file', '--data-dir', dataDir];
    const ids = ['Board', 'board', 'BOARD', 'CON', 'con', 'nul.txt', 'trailing.', 'trailing'];
    const first = await ServerProcess.start({ args });
    for (const [i, roomId] of ids.entries()) {
      const outcome = await attempt(first, roomId, `w${i}`);
      if (!('open' in outcome)) throw new Error(`refused ${roomId}`);
      await outcome.open.write([{ 'e/Owner': { _exists: true, roomId, i } }]);
      outcome.open.close();
    }
    await first.stop();
    const names = readdirSync(join(dataDir, 'rooms'));
    const folded = names.map((name) => name.toLowerCase().replace(/[. ]+$/, ''));
    expect(new Set(folded).size).toBe(names.length);
    for (const name of names) expect(name, name).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i);
    const second = await ServerProcess.start({ args });
    for (const [i, roomId] of ids.entries()) {
      const outcome = await attempt(second, roomId, `r${i}`);
      if (!('open' in outcome)) throw new Error(`refused ${roomId}`);
      const { reply } = await outcome.open.sync(0);
      expect(documentOf(reply)['e/Owner'], roomId).toMatchObject({ roomId, i });
    }
    recordAbuseFigures('principals-case-names', { ids, files: names });
  });

  it('[B9] with --bind-client-id a clientId must be the token subject or start with "<sub>:"', async () => {
    const server = await ServerProcess.start({
      args: ['--storage', 'memory', '--jwt-secret', SECRET, '--bind-client-id'],
    });
    const alice = await hsToken(claims('board', { sub: 'alice', permission: 'readwrite' }));
    const noSubject = await hsToken(claims('board', { permission: 'readwrite' }));
    expect('open' in (await attempt(server, 'board', 'alice', { token: alice }))).toBe(true);
    expect('open' in (await attempt(server, 'board', 'alice:tab-2', { token: alice }))).toBe(true);
    expect(await attempt(server, 'board', 'bob', { token: alice })).toEqual({ code: CloseCode.Forbidden });
    expect(await attempt(server, 'board', 'alice2', { token: alice })).toEqual({ code: CloseCode.Forbidden });
    expect(await attempt(server, 'board', 'alice', { token: noSubject })).toEqual({
      code: CloseCode.Forbidden,
    });
    // A refresh to another subject's token is refused too: the session is closed.
    const session = await attempt(server, 'board', 'alice:tab-3', { token: alice });
    if (!('open' in session)) throw new Error('refused');
    session.open.send({ type: 'auth-refresh', token: await hsToken(claims('board', { sub: 'bob' })) });
    expect((await session.open.closed()).code).toBe(CloseCode.Forbidden);
  });
});
