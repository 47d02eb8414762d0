/**
 * A connect URL without `roomId`, `clientId` or `token` is refused by the server
 * command before the upgrade, with HTTP 400 and a body naming the parameter
 * (SPEC C1; issue 12 item 6). The library's `acceptConnection` closes 4400 with
 * the same sentence as its reason (see accept-connection-auth.test.ts).
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, metric, ServerProcess } from '../../harness/server-process.js';

afterEach(cleanup);

/** Sends a WebSocket upgrade request and resolves with the HTTP answer. */
function upgrade(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += String(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`${path} was upgraded`));
    });
    req.on('error', reject);
    req.end();
  });
}

const MISSING = [
  { parameter: 'roomId', path: '/?room=board-1&clientId=c&token=t' },
  { parameter: 'clientId', path: '/?roomId=board-1&token=t' },
  { parameter: 'token', path: '/?roomId=board-1&clientId=c' },
] as const;

describe('[C1] connect URLs missing a parameter', () => {
  it.each(MISSING)(
    '[C1] without $parameter: HTTP 400 naming $parameter, no upgrade',
    async ({ parameter, path }) => {
      const server = await ServerProcess.start({ args: ['--storage', 'memory'] });
      const answer = await upgrade(server.port, path);
      expect(answer.status).toBe(400);
      expect(answer.body).toContain(`lacks the ${parameter} query parameter`);
      expect(metric(await server.metrics(), 'canvas_connections_refused_total', { code: '400' })).toBe(1);
      expect(server.logs()).toContainEqual(expect.objectContaining({ msg: 'connection refused', code: 400 }));
    },
  );

  it('[C1] a complete URL is still upgraded', async () => {
    const server = await ServerProcess.start({ args: ['--storage', 'memory'] });
    await expect(upgrade(server.port, '/?roomId=board-1&clientId=c&token=t')).rejects.toThrow(/upgraded/);
  });
});
