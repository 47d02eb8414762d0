/**
 * The admin export and import routes (SPEC H4): a room exported from one
 * server imports into a new or empty room of another, document, stamps and
 * clock alike. Malformed, oversized or mis-targeted imports are refused with
 * a stable code and change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomExport } from '../../../src/storage/room-export.js';
import { cleanupAll, shape, startServer, WireClient } from '../../harness/server-harness.js';
import { ADMIN_SECRET, admin, getDocument, roomPath } from './admin-helpers.js';

afterEach(cleanupAll);

async function exportRoom(port: number, roomId: string, query = ''): Promise<RoomExport> {
  const res = await admin(port, roomPath(roomId, `/export${query}`));
  expect(res.status).toBe(200);
  return res.body as RoomExport;
}

function importRoom(port: number, roomId: string, file: unknown) {
  const raw = typeof file === 'string' ? file : JSON.stringify(file);
  return admin(port, roomPath(roomId, '/import'), { method: 'POST', raw });
}

/** A server whose room `src` has a created, moved, deleted and re-created shape. */
async function sourceServer() {
  const started = await startServer({ adminSecret: ADMIN_SECRET });
  const a = await WireClient.join(started.port, { roomId: 'src', clientId: 'a', token: 't' });
  await a.write('m1', [shape('e1/Shape', { x: 1 }), shape('e2/Shape', { y: 1 })]);
  await a.write('m2', [{ 'e1/Shape': { x: 2 } }, { 'e2/Shape': { _exists: false } }]);
  await a.write('m3', [shape('e2/Shape', { y: 3, label: 'back' })]);
  return started;
}

describe('admin API: export and import', () => {
  it('[H4] a room exported from one server imports into another with its document, stamps and clock', async () => {
    const source = await sourceServer();
    const file = await exportRoom(source.port, 'src');
    expect(file).toMatchObject({ format: 'canvas-store-room-export', version: 1, roomId: 'src', clock: 3 });
    expect(file.components.find((c) => c.key === 'e2/Shape')).toEqual({
      key: 'e2/Shape',
      data: { _exists: true, y: 3, label: 'back' },
      stamps: { _exists: 3, y: 3, label: 3 },
      deletedAt: 2,
    });
    const target = await startServer({ adminSecret: ADMIN_SECRET });
    const res = await importRoom(target.port, 'copy', file);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ roomId: 'copy', clock: 3, keys: 2 });
    expect(await getDocument(target.port, 'copy')).toEqual(await getDocument(source.port, 'src'));
    const again = await exportRoom(target.port, 'copy');
    expect({ ...again, exportedAt: '', roomId: '' }).toEqual({ ...file, exportedAt: '', roomId: '' });
    // A client joining the imported room gets it, and its writes go on from the imported clock.
    const c = await WireClient.join(target.port, { roomId: 'copy', clientId: 'c', token: 't' });
    const ack = await c.write('m', [{ 'e1/Shape': { x: 5 } }]);
    expect(ack.timestamp).toBe(4);
  });

  it('[H4] export with history=true carries the history entries, oldest first', async () => {
    const source = await sourceServer();
    const file = await exportRoom(source.port, 'src', '?history=true');
    expect(file.history?.map((e) => [e.clock, e.clientId])).toEqual([
      [1, 'a'],
      [2, 'a'],
      [3, 'a'],
    ]);
    expect((await exportRoom(source.port, 'src', '?history=false')).history).toBeUndefined();
    const bad = await admin(source.port, roomPath('src', '/export?history=yes'));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_parameter' });
  });

  it('[H4] an import into an open empty room reaches the clients already in it', async () => {
    const source = await sourceServer();
    const file = await exportRoom(source.port, 'src');
    const target = await startServer({ adminSecret: ADMIN_SECRET });
    const waiting = await WireClient.join(target.port, { roomId: 'copy', clientId: 'w', token: 't' });
    expect((await importRoom(target.port, 'copy', file)).status).toBe(201);
    // The room closed its sessions to reload; a client that comes back gets the imported document.
    expect(await waiting.waitForClose()).toBe(1001);
    const back = await WireClient.join(target.port, { roomId: 'copy', clientId: 'w', token: 't' });
    const reply = back.framesOf('patch')[0] as { timestamp: number; documentPatches: unknown[] };
    expect(reply.timestamp).toBe(3);
    expect(JSON.stringify(reply.documentPatches)).toContain('"label":"back"');
  });

  it('[H4] an import into a room that holds data is refused with room_not_empty and changes nothing', async () => {
    const source = await sourceServer();
    const file = await exportRoom(source.port, 'src');
    const before = await getDocument(source.port, 'src');
    const res = await importRoom(source.port, 'src', { ...file, components: [], clock: 0 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'room_not_empty' });
    expect(await getDocument(source.port, 'src')).toEqual(before);
    // Also when the room is not open: the stored data decides.
    await source.server.manager.closeRoom('src');
    expect((await importRoom(source.port, 'src', file)).status).toBe(409);
    expect(await getDocument(source.port, 'src')).toEqual(before);
  });

  it('[H4][B2] malformed files are refused with the path of the bad field and store nothing', async () => {
    const source = await sourceServer();
    const file = await exportRoom(source.port, 'src');
    const target = await startServer({ adminSecret: ADMIN_SECRET });
    const cases: Array<[unknown, number, string, string?]> = [
      ['{"format":', 400, 'import_not_json'],
      ['', 400, 'import_not_json'],
      [{ ...file, version: 7 }, 400, 'import_unsupported_version', 'version'],
      [{ ...file, clock: 'three' }, 400, 'import_invalid', 'clock'],
      [
        { ...file, components: [{ ...file.components[0], stamps: { x: -1 } }] },
        400,
        'import_invalid',
        'components[0].stamps',
      ],
      [
        { ...file, components: [{ ...file.components[0], key: 'a\u0000' }] },
        400,
        'import_invalid',
        'components[0].key',
      ],
      [{ ...file, clock: 1 }, 400, 'import_invalid'],
      [`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, 'import_too_deep'],
    ];
    for (const [body, status, code, path] of cases) {
      const res = await importRoom(target.port, 'copy', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.body).toMatchObject(path === undefined ? { code } : { code, path });
    }
    expect(await getDocument(target.port, 'copy')).toMatchObject({ timestamp: 0, state: {} });
    const bad = await admin(target.port, roomPath('copy', '/import?force=1'), { method: 'POST', raw: '{}' });
    expect(bad.body).toMatchObject({ code: 'invalid_parameter' });
    expect((await admin(target.port, roomPath('copy', '/import'))).status).toBe(405);
  });

  it('[H4][B6] an import over --max-import-bytes is refused with 413, counted, and stores nothing', async () => {
    const target = await startServer({ adminSecret: ADMIN_SECRET, maxImportBytes: 1_000 });
    const res = await importRoom(target.port, 'copy', { filler: 'x'.repeat(5_000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'import_too_large' });
    const metrics = await (await fetch(`http://127.0.0.1:${target.port}/metrics`)).text();
    expect(metrics).toMatch(/canvas_limit_hits_total\{limit="maxImportBytes"\} 1/);
    expect(await getDocument(target.port, 'copy')).toMatchObject({ timestamp: 0, state: {} });
  });

  it('[H4][B7] an import over the room quotas of the target is refused', async () => {
    const source = await sourceServer();
    const file = await exportRoom(source.port, 'src');
    const target = await startServer({ adminSecret: ADMIN_SECRET, maxRoomKeys: 1 });
    const res = await importRoom(target.port, 'copy', file);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'import_exceeds_room_limits' });
    expect(await getDocument(target.port, 'copy')).toMatchObject({ timestamp: 0, state: {} });
  });
});
