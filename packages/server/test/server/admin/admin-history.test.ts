/**
 * The admin history routes (SPEC H1, H2): list a room's history, read the
 * document at a clock, restore to a clock as one ordinary write that every
 * client receives. Every bad parameter is refused with a stable code and
 * changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, shape, startServer, WireClient } from '../../harness/server-harness.js';
import { ADMIN_SECRET, admin, getDocument, roomPath } from './admin-helpers.js';

afterEach(cleanupAll);

interface HistoryBody {
  clock: number;
  horizon: number;
  entries: Array<{ clock: number; time: number; clientId: string; keys: string[] }>;
  nextBefore: number | null;
}

/** A server with room `r` written by client `a` at clocks 1-4 (create, move, create, delete). */
async function roomWithHistory() {
  const { server, port } = await startServer({ adminSecret: ADMIN_SECRET });
  const a = await WireClient.join(port, { roomId: 'r', clientId: 'a', token: 't' });
  await a.write('m1', [shape('e1/Shape', { x: 1 })]);
  await a.write('m2', [{ 'e1/Shape': { x: 2 } }]);
  await a.write('m3', [shape('e2/Shape', { y: 7 })]);
  await a.write('m4', [{ 'e1/Shape': { _exists: false } }]);
  return { server, port, a };
}

describe('admin API: history', () => {
  it('[H1] GET history lists clock, time, author and keys, newest first, in pages', async () => {
    const { port } = await roomWithHistory();
    const first = await admin(port, roomPath('r', '/history?limit=3'));
    expect(first.status).toBe(200);
    const page = first.body as HistoryBody;
    expect(page.clock).toBe(4);
    expect(page.entries.map((e) => e.clock)).toEqual([4, 3, 2]);
    expect(page.entries[0]).toMatchObject({ clientId: 'a', keys: ['e1/Shape'] });
    expect(page.entries[1]?.keys).toEqual(['e2/Shape']);
    expect(typeof page.entries[0]?.time).toBe('number');
    expect(page.nextBefore).toBe(2);
    const second = (await admin(port, roomPath('r', `/history?limit=3&before=${page.nextBefore}`)))
      .body as HistoryBody;
    expect(second.entries.map((e) => e.clock)).toEqual([1]);
    expect(second.nextBefore).toBeNull();
  });

  it('[H1] GET history/:clock answers the document as it was then, with stamps and tombstones', async () => {
    const { port } = await roomWithHistory();
    const at2 = await admin(port, roomPath('r', '/history/2'));
    expect(at2.status).toBe(200);
    expect(at2.body).toEqual({
      roomId: 'r',
      clock: 2,
      components: [{ key: 'e1/Shape', data: { _exists: true, x: 2 }, stamps: { _exists: 1, x: 2 } }],
    });
    const at4 = (await admin(port, roomPath('r', '/history/4'))).body as { components: unknown[] };
    expect(at4.components).toContainEqual({
      key: 'e1/Shape',
      data: { _exists: false },
      stamps: { _exists: 4 },
    });
    expect((await admin(port, roomPath('r', '/history/0'))).body).toMatchObject({ components: [] });
  });

  it('[H2] POST restore makes the document equal to its state then, as one write every client receives', async () => {
    const { port, a } = await roomWithHistory();
    const b = await WireClient.join(port, { roomId: 'r', clientId: 'b', token: 't' });
    const res = await admin(port, roomPath('r', '/restore'), { method: 'POST', json: { clock: 2 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ roomId: 'r', restoredTo: 2, clock: 5 });
    for (const client of [a, b]) {
      const frame = await client.waitForFrame((f) => f.type === 'patch' && f.timestamp === 5, 'the restore');
      expect(frame.clientId).toBe('');
    }
    const doc = await getDocument(port, 'r');
    expect(doc.timestamp).toBe(5);
    expect(doc.state).toEqual({ 'e1/Shape': { _exists: true, x: 2 } });
    // The restore is in the history like any write, authored by the server.
    const page = (await admin(port, roomPath('r', '/history?limit=1'))).body as HistoryBody;
    expect(page.entries[0]).toMatchObject({ clock: 5, clientId: '' });
  });

  it('[H1][B2] bad clocks, limits and parameters are refused with a code and change nothing', async () => {
    const { port } = await roomWithHistory();
    const cases: Array<[string, string, string, unknown?]> = [
      ['GET', '/history/abc', 'invalid_clock'],
      ['GET', '/history/-1', 'invalid_clock'],
      ['GET', '/history/1e3', 'invalid_clock'],
      ['GET', '/history/0x2', 'invalid_clock'],
      ['GET', '/history/1.5', 'invalid_clock'],
      ['GET', '/history/99999999999999999', 'invalid_clock'],
      ['GET', '/history/5', 'invalid_clock'],
      ['GET', '/history?limit=0', 'invalid_parameter'],
      ['GET', '/history?limit=1001', 'invalid_parameter'],
      ['GET', '/history?limit=100000000', 'invalid_parameter'],
      ['GET', '/history?limit=abc', 'invalid_parameter'],
      ['GET', '/history?before=0', 'invalid_clock'],
      ['GET', '/history?before=-3', 'invalid_clock'],
      ['GET', '/history?limit=1&limit=2', 'invalid_parameter'],
      ['GET', '/history?page=2', 'invalid_parameter'],
      ['GET', '/history/2?x=1', 'invalid_parameter'],
      ['POST', '/restore', 'invalid_clock', { clock: 5 }],
      ['POST', '/restore', 'invalid_clock', { clock: -1 }],
      ['POST', '/restore', 'invalid_clock', { clock: 1.5 }],
      ['POST', '/restore', 'invalid_clock', { clock: '2' }],
      ['POST', '/restore', 'invalid_clock', { clock: 2 ** 60 }],
      ['POST', '/restore', 'invalid_body', { clock: 2, extra: true }],
      ['POST', '/restore', 'invalid_body', [2]],
      ['POST', '/restore', 'invalid_body', 'not json'],
    ];
    for (const [method, suffix, code, body] of cases) {
      const options = typeof body === 'string' ? { method, raw: body } : { method, json: body };
      const res = await admin(port, roomPath('r', suffix), options);
      expect(res.status, `${method} ${suffix} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body, `${method} ${suffix}`).toMatchObject({ code });
      expect(typeof (res.body as { error: unknown }).error).toBe('string');
    }
    const big = await admin(port, roomPath('r', '/restore'), { method: 'POST', raw: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    for (const [method, suffix] of [
      ['POST', '/history'],
      ['GET', '/restore'],
      ['DELETE', '/history/1'],
    ] as const) {
      const res = await admin(port, roomPath('r', suffix), { method });
      expect(res.status, `${method} ${suffix}`).toBe(405);
      expect(res.body).toMatchObject({ code: 'method_not_allowed' });
    }
    expect((await admin(port, roomPath('r', '/restore/2'), { method: 'POST' })).status).toBe(404);
    const doc = await getDocument(port, 'r');
    expect(doc.timestamp).toBe(4);
    expect(doc.state).toEqual({ 'e2/Shape': { _exists: true, y: 7 } });
  });

  it('[H1] the history routes need the admin secret and valid room ids', async () => {
    const { port } = await roomWithHistory();
    for (const [method, suffix] of [
      ['GET', '/history'],
      ['GET', '/history/1'],
      ['POST', '/restore'],
      ['GET', '/export'],
      ['POST', '/import'],
    ] as const) {
      const res = await admin(port, roomPath('r', suffix), {
        method,
        secret: null,
        json: method === 'POST' ? { clock: 1 } : undefined,
      });
      expect(res.status, `${method} ${suffix}`).toBe(401);
    }
    const nul = await admin(port, `/admin/rooms/a%00b/history`);
    expect(nul.status).toBe(400);
    expect(nul.body).toMatchObject({ code: 'invalid_room_id' });
    expect((await getDocument(port, 'r')).timestamp).toBe(4);
  });
});
