/**
 * Abuse suite, per-principal quotas (SPEC B8, issue 11) against the real
 * server process: one address or one token subject flooding rooms and
 * connections, and half-open sockets. Each attack is bounded in count; the
 * attacker gets its documented answer (HTTP 429 with Retry-After before the
 * upgrade, close code 4439 or 4408 after it), bystanders keep being served,
 * refusals are counted in metrics and logged at a bounded rate.
 */

import { CloseCode } from 'canvas-store-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attempt,
  HealthzSampler,
  halfOpenSocket,
  mib,
  rawUpgrade,
  recordAbuseFigures,
} from '../harness/abuse/principals-harness.js';
import { scaled, startProbedServer } from '../harness/reliability-harness.js';
import { cleanup, metric, type WireClient, waitUntil } from '../harness/server-process.js';
import { claims, hsToken, SECRET } from '../server/auth/token-helpers.js';

afterEach(cleanup);

const REFUSAL_LOG = 'refused: limit reached';
/** A generous allowance per open session (socket, session, empty room) for heap bounds. */
const HEAP_PER_SESSION = 256 * 1024;
const HEAP_SLACK = 24 * 1024 * 1024;

describe('[B8] one principal cannot fill the server', () => {
  it('[B8] a room flood from one address stops at --max-rooms-per-address with 429 and Retry-After; other addresses are served', async () => {
    const LIMIT = 20;
    const ATTEMPTS = scaled(200, 3_000);
    const { server, probe } = await startProbedServer({
      args: ['--storage', 'memory', '--max-rooms-per-address', String(LIMIT)],
    });
    const before = await probe();
    const sampler = new HealthzSampler(server.port);
    const open: WireClient[] = [];
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < ATTEMPTS; i++) {
      const outcome = await attempt(server, `flood-${i}`, 'mallory');
      if ('open' in outcome) open.push(outcome.open);
      else if ('status' in outcome) statuses.push(outcome.status);
      else throw new Error(`unexpected close ${outcome.code}`);
    }
    const loop = await sampler.stop();
    expect(open).toHaveLength(LIMIT);
    expect(statuses).toEqual(Array(ATTEMPTS - LIMIT).fill(429));
    const raw = await rawUpgrade(server.port, '/?roomId=one-more&clientId=m&token=t');
    expect(raw.status).toBe(429);
    expect(Number(raw.headers['retry-after'])).toBeGreaterThan(0);
    // More sessions in a room it already holds are fine; so is a bystander from another address.
    expect('open' in (await attempt(server, 'flood-0', 'mallory-2'))).toBe(true);
    const bystander = await attempt(server, 'bystander-room', 'alice', { from: '127.0.0.2' });
    if (!('open' in bystander)) throw new Error(`bystander refused: ${JSON.stringify(bystander)}`);
    expect(await bystander.open.write([{ 'e/P': { v: 1 } }])).toMatchObject({ type: 'ack' });
    const after = await probe();
    const samples = await server.metrics();
    const refused = ATTEMPTS - LIMIT + 1;
    expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'rooms-per-address' })).toBe(refused);
    // Logged at a bounded rate (one line per limit per 10 s), not once per refusal.
    const lines = server.logs().filter((line) => line.msg === REFUSAL_LOG);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - started) / 10_000));
    expect(after.heapUsed - before.heapUsed).toBeLessThan((LIMIT + 3) * HEAP_PER_SESSION + HEAP_SLACK);
    // Closing its sessions gives the address its quota back.
    for (const client of open) client.close();
    await waitUntil('a room after the flood', async () => {
      const outcome = await attempt(server, 'after-flood', 'mallory');
      return 'open' in outcome ? outcome : undefined;
    });
    recordAbuseFigures('principals-room-flood-address', {
      limit: LIMIT,
      attempts: ATTEMPTS,
      opened: open.length,
      refused429: statuses.length,
      heapGrowthMiB: mib(after.heapUsed - before.heapUsed),
      rssGrowthMiB: mib(after.rss - before.rss),
      ...loop,
    });
  });

  it('[B8] a room flood by one token subject from many addresses stops at --max-rooms-per-subject and --max-connections-per-subject with 4439', async () => {
    const ROOMS = 10;
    const CONNECTIONS = 15;
    const { server, probe } = await startProbedServer({
      args: [
        '--storage',
        'memory',
        '--jwt-secret',
        SECRET,
        '--max-rooms-per-subject',
        String(ROOMS),
        '--max-connections-per-subject',
        String(CONNECTIONS),
      ],
    });
    const before = await probe();
    const mallory = await hsToken(claims('*', { sub: 'mallory', permission: 'readwrite' }));
    const codes: number[] = [];
    let opened = 0;
    // Each attempt from another address: the address quotas never come into play.
    for (let i = 0; i < 40; i++) {
      const outcome = await attempt(server, `room-${i}`, `m${i}`, {
        token: mallory,
        from: `127.0.1.${i + 1}`,
      });
      if ('open' in outcome) opened++;
      else if ('code' in outcome) codes.push(outcome.code);
      else throw new Error(`unexpected HTTP ${outcome.status}`);
    }
    expect(opened).toBe(ROOMS);
    expect(codes).toEqual(Array(40 - ROOMS).fill(CloseCode.TooManyForPrincipal));
    // In rooms it holds, it may open connections up to its connection quota.
    for (let i = 0; i < CONNECTIONS - ROOMS; i++) {
      const outcome = await attempt(server, 'room-0', `again-${i}`, { token: mallory, from: '127.0.2.1' });
      expect('open' in outcome).toBe(true);
    }
    expect(await attempt(server, 'room-0', 'one-too-many', { token: mallory, from: '127.0.2.2' })).toEqual({
      code: CloseCode.TooManyForPrincipal,
    });
    const alice = await hsToken(claims('*', { sub: 'alice', permission: 'readwrite' }));
    const bystander = await attempt(server, 'room-0', 'alice', { token: alice, from: '127.0.1.1' });
    if (!('open' in bystander)) throw new Error(`bystander refused: ${JSON.stringify(bystander)}`);
    expect(await bystander.open.write([{ 'e/P': { v: 1 } }])).toMatchObject({ type: 'ack' });
    const samples = await server.metrics();
    expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'rooms-per-subject' })).toBe(
      40 - ROOMS,
    );
    expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'connections-per-subject' })).toBe(1);
    expect(metric(samples, 'canvas_closes_total', { code: '4439' })).toBe(40 - ROOMS + 1);
    const after = await probe();
    expect(after.heapUsed - before.heapUsed).toBeLessThan((CONNECTIONS + 2) * HEAP_PER_SESSION + HEAP_SLACK);
    recordAbuseFigures('principals-room-flood-subject', {
      roomsLimit: ROOMS,
      connectionsLimit: CONNECTIONS,
      attempts: 40 + CONNECTIONS - ROOMS + 1,
      opened: opened + CONNECTIONS - ROOMS,
      closed4439: codes.length + 1,
      heapGrowthMiB: mib(after.heapUsed - before.heapUsed),
      rssGrowthMiB: mib(after.rss - before.rss),
    });
  });

  it('[B8] half-open sockets are capped per address (429) and dropped after --handshake-timeout; descriptors come back', async () => {
    const PER_ADDRESS = 50;
    const ATTEMPTS = scaled(120, 1_000);
    const { server, probe } = await startProbedServer({
      args: [
        '--storage',
        'memory',
        '--handshake-timeout',
        '1000',
        '--max-connections-per-address',
        String(PER_ADDRESS),
      ],
    });
    const before = await probe();
    const sampler = new HealthzSampler(server.port);
    const sockets: Awaited<ReturnType<typeof halfOpenSocket>>[] = [];
    for (let i = 0; i < ATTEMPTS; i++) sockets.push(await halfOpenSocket(server.port));
    // Those over the cap are answered 429 at once; the others are held, then cut at the deadline.
    await waitUntil('every half-open socket closed by the server', () =>
      sockets.every(({ socket }) => socket.readableEnded || socket.destroyed),
    );
    const loop = await sampler.stop();
    const answered429 = sockets.filter(({ answer }) => answer.startsWith('HTTP/1.1 429')).length;
    // At most PER_ADDRESS were ever held; the rest were answered 429 (more get in when the first are cut
    // at the deadline while the attack goes on, as in the long run).
    const held = ATTEMPTS - answered429;
    expect(held).toBeGreaterThanOrEqual(PER_ADDRESS);
    expect(answered429).toBeGreaterThan(0);
    for (const { socket } of sockets) socket.destroy();
    const after = await waitUntil('descriptors back to the baseline', async () => {
      const reading = await probe();
      return reading.fds <= before.fds + 2 ? reading : undefined;
    });
    const samples = await server.metrics();
    expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'handshake-timeout' })).toBe(held);
    expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'connections-per-address' })).toBe(
      answered429,
    );
    // The server still serves a real client afterwards.
    expect('open' in (await attempt(server, 'after', 'c'))).toBe(true);
    recordAbuseFigures('principals-half-open', {
      attempts: ATTEMPTS,
      perAddressLimit: PER_ADDRESS,
      answered429,
      droppedAtDeadline: held,
      fdGrowthAfter: after.fds - before.fds,
      rssGrowthMiB: mib(after.rss - before.rss),
      ...loop,
    });
  });

  it('[B8] past --max-connections every new TCP connection gets 429, whatever its address; closing one makes room', async () => {
    const CAP = 6;
    const { server } = await startProbedServer({
      args: ['--storage', 'memory', '--max-connections', String(CAP)],
    });
    // The server's own /metrics and /healthz calls need connections too: hold CAP - 1 and keep one free.
    const held = [];
    for (let i = 0; i < CAP - 1; i++) held.push(await halfOpenSocket(server.port, `127.0.3.${i + 1}`));
    const last = await halfOpenSocket(server.port, '127.0.3.100');
    const refused = await halfOpenSocket(server.port, '127.0.3.101');
    await waitUntil('the 429 answer', () => refused.answer.startsWith('HTTP/1.1 429') || undefined);
    expect(last.answer).toBe('');
    last.socket.destroy();
    for (const { socket } of held) socket.destroy();
    await waitUntil('a connection accepted again', async () => {
      const outcome = await attempt(server, 'room', 'c', { from: '127.0.3.102' });
      return 'open' in outcome ? outcome : undefined;
    });
    const samples = await server.metrics();
    expect(
      metric(samples, 'canvas_principal_refusals_total', { limit: 'connections' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('[B8] an upgraded connection whose authorization never finishes is closed with 4408', async () => {
    // A JWKS endpoint that accepts connections and never answers: authorization hangs.
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const { server } = await startProbedServer({
        args: [
          '--storage',
          'memory',
          '--handshake-timeout',
          '800',
          '--jwt-jwks-url',
          `http://127.0.0.1:${port}/jwks`,
        ],
      });
      // Well-formed enough that the key must be fetched from the JWKS endpoint.
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const token = `${part({ alg: 'RS256', kid: 'k' })}.${part({ room: 'room', exp: 2 ** 31 })}.c2ln`;
      const outcome = await attempt(server, 'room', 'c', { token });
      expect(outcome).toEqual({ code: CloseCode.HandshakeTimeout });
      const samples = await server.metrics();
      expect(metric(samples, 'canvas_principal_refusals_total', { limit: 'handshake-timeout' })).toBe(1);
    } finally {
      silent.close();
    }
  });
});
