import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, documentOf, eventually, makeClient } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

let server: TestServer | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  server = undefined;
});

describe('buffer-delta arrays', () => {
  it('[D6] a stroke grown with setArray travels as buffer deltas and arrives whole', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room', { clientId: 'alice' });
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const points: number[] = [];
    for (let i = 0; i < 30; i++) {
      points.push(i, i * 2);
      a.setArray('s1/Stroke', 'points', points);
      await eventually(() => a.pendingCount === 0);
    }
    await eventually(() => (b.get('s1/Stroke')?.points as number[] | undefined)?.length === 60);
    expect(b.get('s1/Stroke')).toEqual({ _exists: true, points });
    const room = await server.room('room');
    expect(room.getSnapshot().state['s1/Stroke']).toEqual({ _exists: true, points });
    const sent = server
      .framesOfType('patch')
      .filter((frame) => String(frame.messageId).startsWith('alice-'))
      .map(
        (frame) =>
          (frame.documentPatches as Array<Record<string, { points?: unknown }>>)[0]?.['s1/Stroke']?.points,
      );
    expect(sent).toHaveLength(30);
    const deltas = sent.filter((value) => !Array.isArray(value));
    expect(deltas.length).toBeGreaterThan(20);
    expect(deltas.at(-1)).toEqual({ __buf: 1, len: 60, runs: [[58, [29, 58]]] });
  });

  it('[D6] edits of an array made between two sends compose into one delta', async () => {
    server = await TestServer.start();
    const a = makeClient(server.url, 'room');
    const b = makeClient(server.url, 'room');
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const base = Array.from({ length: 20 }, (_, i) => i);
    a.setArray('s1/Stroke', 'points', base);
    await eventually(() => a.pendingCount === 0);
    a.disconnect();
    a.setArray('s1/Stroke', 'points', [...base, 20]);
    const changed = [...base, 20];
    changed[5] = 99;
    a.setArray('s1/Stroke', 'points', changed);
    a.setArray('s1/Stroke', 'points', changed.slice(0, 10));
    a.connect();
    await eventually(() => expect(b.get('s1/Stroke')?.points).toEqual([0, 1, 2, 3, 4, 99, 6, 7, 8, 9]));
    const sent = server.framesOfType('reconnect').find((frame) => frame.documentPatches)?.documentPatches;
    expect(sent).toEqual([{ 's1/Stroke': { points: { __buf: 1, len: 10, runs: [[5, [99]]] } } }]);
    const state = (await server.room('room')).getSnapshot().state;
    expect(documentOf(a)).toEqual(state);
    expect(documentOf(b)).toEqual(state);
  });
});
