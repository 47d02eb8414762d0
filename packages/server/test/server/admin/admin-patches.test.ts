/**
 * POST /admin/rooms/:roomId/patches: a server-made edit, stamped, persisted,
 * broadcast with clientId '' and seen by reconnecting clients; invalid bodies
 * answer 400/413 and change nothing (SPEC B2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  makeTempDir,
  shape,
  startServer,
  stopServer,
  WireClient,
} from '../../harness/server-harness.js';
import { ADMIN_SECRET, admin, getDocument, postPatches, roomPath } from './admin-helpers.js';

afterEach(cleanupAll);

describe('admin API: server patches', () => {
  it('[admin] POST patches answers the new clock and every connected client gets the broadcast', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const a = await WireClient.join(port, { roomId: 'r', clientId: 'a', token: 't' });
    const b = await WireClient.join(port, { roomId: 'r', clientId: 'b', token: 't' });
    await a.write('m1', [shape('e1/Shape', { x: 1 })]);
    const patches = [shape('e2/Shape', { y: 5 }), { 'e1/Shape': { x: 9 } }];
    const res = await postPatches(port, 'r', patches);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ timestamp: 2 });
    for (const client of [a, b]) {
      const frame = await client.waitForFrame((f) => f.type === 'patch' && f.clientId === '', 'server patch');
      expect(frame).toEqual({ type: 'patch', clientId: '', documentPatches: patches, timestamp: 2 });
    }
    const doc = await getDocument(port, 'r');
    expect(doc.timestamp).toBe(2);
    expect(doc.state).toEqual({ 'e1/Shape': { _exists: true, x: 9 }, 'e2/Shape': { _exists: true, y: 5 } });
    expect(doc.timestamps['e1/Shape']).toEqual({ _exists: 1, x: 2 });
  });

  it('[D7] a client reconnecting from before the server patch sees it in its reconnect reply', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const first = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    const ack = await first.write('m1', [shape('e1/Shape', { x: 1 })]);
    first.close();
    await first.waitForClose();
    expect((await postPatches(port, 'r', [{ 'e1/Shape': { x: 2 } }])).body).toEqual({ timestamp: 2 });
    const again = await WireClient.open(port, { roomId: 'r', clientId: 'c', token: 't' });
    const synced = await again.sync(ack.timestamp as number);
    expect(synced.timestamp).toBe(2);
    expect(again.documentPatches()).toEqual([
      { type: 'patch', clientId: '', documentPatches: [{ 'e1/Shape': { x: 2 } }], timestamp: 2 },
    ]);
  });

  it('[admin] a readonly session receives server patches too', async () => {
    const jwtSecret = 'jwt-secret-for-admin-tests-0123456789abcdef';
    const { port } = await startServer({ adminSecret: ADMIN_SECRET, jwtSecret });
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({
      room: 'r',
      permission: 'readonly',
      exp: Math.floor(Date.now() / 1000) + 600,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(jwtSecret));
    const viewer = await WireClient.join(port, { roomId: 'r', clientId: 'v', token });
    expect((await postPatches(port, 'r', [shape('e1/Shape', { x: 1 })])).status).toBe(200);
    const frame = await viewer.waitForFrame((f) => f.clientId === '' && f.type === 'patch', 'server patch');
    expect(frame.timestamp).toBe(1);
  });

  it('[D1] empty patches answer the unchanged clock and broadcast nothing', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    expect((await postPatches(port, 'r', [])).body).toEqual({ timestamp: 1 });
    expect((await postPatches(port, 'r', [{}])).body).toEqual({ timestamp: 1 });
    // The next real server patch is the first the client receives.
    expect((await postPatches(port, 'r', [shape('e2/Shape', { y: 1 })])).body).toEqual({ timestamp: 2 });
    await client.waitForFrame((f) => f.clientId === '' && f.timestamp === 2, 'server patch 2');
    expect(client.documentPatches().filter((f) => f.clientId === '')).toHaveLength(1);
  });

  it('[P2] an answered server patch is stored (sqlite): a restarted server still has it', async () => {
    const dataDir = makeTempDir();
    const config = { adminSecret: ADMIN_SECRET, storage: 'sqlite' as const, dataDir };
    const first = await startServer(config);
    expect((await postPatches(first.port, 'r', [shape('e1/Shape', { x: 7 })])).status).toBe(200);
    await stopServer(first.server);
    const second = await startServer(config);
    expect((await getDocument(second.port, 'r')).state).toEqual({ 'e1/Shape': { _exists: true, x: 7 } });
  });
});

describe('admin API: invalid server patches change nothing', () => {
  const invalidBodies: Array<[string, string, number]> = [
    ['a null patch', '{"patches":[null]}', 400],
    ['a patch that is an array', '{"patches":[[]]}', 400],
    ['a component that is not an object', '{"patches":[{"e1/Shape":5}]}', 400],
    ['a __proto__ key', '{"patches":[{"__proto__":{"x":1}}]}', 400],
    ['a __proto__ field', '{"patches":[{"e1/Shape":{"__proto__":{"polluted":true}}}]}', 400],
    ['a constructor key', '{"patches":[{"constructor":{"x":1}}]}', 400],
    ['a prototype field', '{"patches":[{"e1/Shape":{"prototype":1}}]}', 400],
    ['a valid patch followed by an invalid one', '{"patches":[{"e1/Shape":{"x":99}},null]}', 400],
    ['patches that are not an array', '{"patches":{"e1/Shape":{"x":1}}}', 400],
    ['patches that are a string', '{"patches":"e1/Shape"}', 400],
    ['no patches field', '{"documentPatches":[]}', 400],
    ['a JSON null body', 'null', 400],
    ['a body that is not JSON', '{"patches":[', 400],
    ['an empty body', '', 400],
  ];

  for (const [what, raw, status] of invalidBodies) {
    it(`[B2] ${what} answers ${status} and leaves the document unchanged`, async () => {
      const { port } = await startServer({ adminSecret: ADMIN_SECRET });
      const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
      await client.write('m1', [shape('e1/Shape', { x: 1 })]);
      const before = await getDocument(port, 'r');
      const res = await admin(port, roomPath('r', '/patches'), { method: 'POST', raw });
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ error: expect.any(String) });
      expect(await getDocument(port, 'r')).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // No broadcast came of it: the next valid server patch is the first one the client sees.
      expect((await postPatches(port, 'r', [shape('e2/Shape', { y: 1 })])).body).toEqual({ timestamp: 2 });
      await client.waitForFrame((f) => f.clientId === '' && f.type === 'patch', 'valid server patch');
      expect(client.documentPatches().filter((f) => f.clientId === '')).toEqual([
        {
          type: 'patch',
          clientId: '',
          documentPatches: [{ 'e2/Shape': { _exists: true, y: 1 } }],
          timestamp: 2,
        },
      ]);
    });
  }

  it('[B4] a body over the admin size limit answers 413 and leaves the document unchanged', async () => {
    const { port } = await startServer({ adminSecret: ADMIN_SECRET });
    const client = await WireClient.join(port, { roomId: 'r', clientId: 'c', token: 't' });
    await client.write('m1', [shape('e1/Shape', { x: 1 })]);
    const before = await getDocument(port, 'r');
    const big = JSON.stringify({ patches: [shape('e1/Shape', { x: 'y'.repeat(5 * 1024 * 1024) })] });
    const res = await admin(port, roomPath('r', '/patches'), { method: 'POST', raw: big });
    expect(res.status).toBe(413);
    expect(await getDocument(port, 'r')).toEqual(before);
    expect(client.isOpen).toBe(true);
  });
});
