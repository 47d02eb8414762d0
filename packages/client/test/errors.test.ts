import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from 'canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ClientEvents, ConnectionStatus } from '../src/index.js';
import { closeClients, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('error and close events', () => {
  it('[B3] a frame over the size limit yields an error event and close 1009, and no retry', async () => {
    server = await TestServer.start({ roomOptions: () => ({ limits: { maxFrameBytes: 2_000 } }) });
    const a = makeClient(server.url, 'room');
    await a.whenSynced();
    const errors: Array<ClientEvents['error']> = [];
    const closes: Array<ClientEvents['close']> = [];
    a.on('error', (event) => errors.push(event));
    a.on('close', (event) => closes.push(event));
    a.set('e1/Big', { text: 'x'.repeat(5_000) });
    await eventually(() => closes.length === 1);
    expect(errors.map((e) => e.code)).toEqual(['frame-too-large']);
    expect(closes[0]?.code).toBe(CloseCode.FrameTooLarge);
    expect(a.status).toBe('offline');
    // The edit is kept, not lost.
    expect(a.get('e1/Big')?.text).toHaveLength(5_000);
    expect(a.pendingCount).toBe(1);
  });

  it('[client] a version-mismatch frame closes the client for good with an error event', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.on('message', () => ws.send(JSON.stringify({ type: 'version-mismatch', serverProtocolVersion: 3 })));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(async () => {
      wss.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    });
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
    const a = makeClient(url, 'room');
    const errors: Array<ClientEvents['error']> = [];
    const statuses: ConnectionStatus[] = [];
    a.on('error', (event) => errors.push(event));
    a.on('status', ({ status }) => statuses.push(status));
    const synced = a.whenSynced();
    await expect(synced).rejects.toThrow(/closed/);
    expect(errors).toEqual([{ code: 'version-mismatch', message: 'the server speaks protocol version 3' }]);
    expect(a.status).toBe('closed');
    expect(statuses.at(-1)).toBe('closed');
    a.connect();
    expect(a.status).toBe('closed');
    expect(connections).toBe(1);
  });

  it('[B3] error frames from the server become error events', async () => {
    server = await TestServer.start({
      // A token over the room's limit makes the auth-refresh frame invalid (SPEC B2).
      roomOptions: () => ({ limits: { maxTokenLength: 8 } }),
    });
    const a = makeClient(server.url, 'room');
    await a.whenSynced();
    const errors: Array<ClientEvents['error']> = [];
    a.on('error', (event) => errors.push(event));
    a.updateToken('a-token-longer-than-eight');
    await eventually(() => errors.length === 1);
    expect(errors[0]?.code).toBe('invalid-field');
    expect(errors[0]?.message).toMatch(/token/);
    expect(a.status).toBe('online');
  });
});
