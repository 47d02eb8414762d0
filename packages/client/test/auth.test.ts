import { CloseCode, ConnectionRefusedError } from 'canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvents, ConnectionStatus } from '../src/index.js';
import { closeClients, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('tokens and authorization', () => {
  it('[C5] updateToken sends auth-refresh, authorized again; later reconnects use the new token', async () => {
    const seen: Array<{ token: string; onConnect: boolean }> = [];
    server = await TestServer.start({
      authorize: ({ token, request }) => {
        seen.push({ token, onConnect: request !== undefined });
        return { permissions: 'readwrite' };
      },
    });
    const a = makeClient(server.url, 'room', { token: 'first' });
    await a.whenSynced();
    a.updateToken('second');
    await eventually(() => seen.some((s) => s.token === 'second' && !s.onConnect));
    expect(server.framesOfType('auth-refresh')).toEqual([{ type: 'auth-refresh', token: 'second' }]);
    a.set('e1/Rect', { x: 1 });
    await eventually(() => a.pendingCount === 0);

    const room = await server.room('room');
    const [session] = room.getSessions();
    room.closeSession(session?.sessionId ?? '', CloseCode.GoingAway, 'test');
    await eventually(() => seen.some((s) => s.token === 'second' && s.onConnect));
    await a.whenSynced();
    expect(seen.filter((s) => s.onConnect).map((s) => s.token)).toEqual(['first', 'second']);
  });

  it('[C5] a refused auth-refresh closes the session with 4403 and the client stays offline', async () => {
    server = await TestServer.start({
      authorize: ({ token }) => {
        if (token === 'revoked') throw new Error('revoked');
        return { permissions: 'readwrite' };
      },
    });
    const a = makeClient(server.url, 'room');
    await a.whenSynced();
    const closes: Array<ClientEvents['close']> = [];
    a.on('close', (event) => closes.push(event));
    a.updateToken('revoked');
    await eventually(() => closes.length === 1);
    expect(closes[0]?.code).toBe(CloseCode.Forbidden);
    expect(a.status).toBe('offline');
  });

  it('[C2] a connection refused by authorize closes with 4401 and is not retried', async () => {
    server = await TestServer.start({
      authorize: () => {
        throw new Error('who are you');
      },
    });
    const statuses: ConnectionStatus[] = [];
    const closes: Array<ClientEvents['close']> = [];
    const a = makeClient(server.url, 'room', { startOffline: true });
    a.on('status', ({ status }) => statuses.push(status));
    a.on('close', (event) => closes.push(event));
    a.connect();
    await eventually(() => closes.length === 1);
    expect(closes[0]?.code).toBe(CloseCode.Unauthorized);
    expect(a.status).toBe('offline');
    expect(statuses).toEqual(['connecting', 'online', 'offline']);
    expect(server.connections).toBe(1);
    expect(a.synced).toBe(false);
  });

  it('[client] an expired fixed token is final; a token function is called again for a fresh one', async () => {
    server = await TestServer.start({
      authorize: ({ token }) => {
        if (token === 'stale') throw new ConnectionRefusedError('token expired', CloseCode.TokenExpired);
        return { permissions: 'readwrite' };
      },
    });
    const fixed = makeClient(server.url, 'room', { token: 'stale' });
    const fixedCloses: number[] = [];
    fixed.on('close', ({ code }) => fixedCloses.push(code));
    await eventually(() => fixedCloses.length === 1);
    expect(fixedCloses).toEqual([CloseCode.TokenExpired]);
    expect(fixed.status).toBe('offline');

    const issued: string[] = [];
    const refreshing = makeClient(server.url, 'room', {
      token: async () => {
        const token = issued.length === 0 ? 'stale' : 'fresh';
        issued.push(token);
        return token;
      },
    });
    await refreshing.whenSynced();
    expect(issued).toEqual(['stale', 'fresh']);
  });
});
