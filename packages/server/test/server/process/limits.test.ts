/**
 * Every limit of the server command closes the offending connection with its
 * documented close code (packages/protocol/src/close-codes.ts), after the error frames
 * the protocol promises, and leaves the other sessions working. Also the
 * Origin allow-list refuses upgrades with HTTP 403.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, ServerProcess, type WireClient } from '../../harness/server-process.js';

afterEach(cleanup);

function start(...args: string[]): Promise<ServerProcess> {
  return ServerProcess.start({ args: ['--storage', 'memory', ...args] });
}

async function synced(server: ServerProcess, roomId: string, clientId: string): Promise<WireClient> {
  const client = await server.connect(roomId, clientId);
  await client.sync(0);
  return client;
}

/** A patch frame whose text is about `bytes` long. */
function sizedPatch(messageId: string, bytes: number): string {
  return JSON.stringify({
    type: 'patch',
    messageId,
    documentPatches: [{ 'big/Blob': { s: 'x'.repeat(bytes) } }],
  });
}

describe('[B3] limits close the session with their code', () => {
  it('[B4] a frame over --max-frame-bytes closes with 1009 and the room keeps serving others', async () => {
    const server = await start('--max-frame-bytes', '1024');
    const victim = await synced(server, 'size', 'victim');
    const other = await synced(server, 'size', 'other');
    expect(await victim.write([{ 'ok/Small': { s: 'x'.repeat(500) } }])).toMatchObject({ type: 'ack' });

    victim.send(sizedPatch('too-big', 2_000));
    expect((await victim.closed()).code).toBe(1009);
    expect(await other.write([{ 'ok/Other': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 2 });
    await other.waitForFrame('count back to 1', (f) => f.type === 'clientCount' && f.count === 1);
  });

  it('[B4] more frames than --frames-per-second allows in a burst: error rate-limited, then 4429', async () => {
    const server = await start('--frames-per-second', '1');
    const flooder = await synced(server, 'frames', 'flooder');
    const other = await synced(server, 'frames', 'other');
    // The burst is 3 frames; the reconnect took one.
    for (let i = 0; i < 12; i++) flooder.sendPatch([{ 'f/Count': { i } }]);

    expect((await flooder.closed()).code).toBe(4429);
    expect(flooder.ofType('error')).toContainEqual(expect.objectContaining({ code: 'rate-limited' }));
    // The frames inside the burst were served before the limit struck.
    expect(flooder.ofType('ack').length).toBeGreaterThanOrEqual(1);
    expect(flooder.ofType('ack').length).toBeLessThan(12);
    expect(await other.write([{ 'o/Other': { v: 1 } }])).toMatchObject({ type: 'ack' });
  });

  it('[B4] more bytes than --bytes-per-second allows in a burst: error rate-limited, then 4429', async () => {
    // Burst 4 x 1000 bytes; each frame is ~1500 bytes, far below the frame-rate burst (300 frames).
    const server = await start('--bytes-per-second', '1000');
    const flooder = await synced(server, 'bytes', 'flooder');
    const other = await synced(server, 'bytes', 'other');
    for (let i = 0; i < 8; i++) flooder.send(sizedPatch(`b${i}`, 1_500));

    expect((await flooder.closed()).code).toBe(4429);
    expect(flooder.ofType('error')).toContainEqual(expect.objectContaining({ code: 'rate-limited' }));
    expect(flooder.ofType('ack').length).toBeGreaterThanOrEqual(1);
    expect(flooder.ofType('ack').length).toBeLessThan(8);
    expect(await other.write([{ 'o/Other': { v: 1 } }])).toMatchObject({ type: 'ack' });
  });

  it('[B4] small frames within --bytes-per-second are not limited', async () => {
    const server = await start('--bytes-per-second', '1000');
    const client = await synced(server, 'bytes-ok', 'client');
    for (let i = 0; i < 8; i++) client.sendPatch([{ 'f/Count': { i } }]);
    await client.waitFor('8 acks', () => (client.ofType('ack').length === 8 ? true : undefined));
    expect(client.ofType('error')).toEqual([]);
    expect(client.closeInfo).toBeUndefined();
  });

  it('[B4] a connection beyond --max-sessions-per-room is closed with 4430; the first stays', async () => {
    const server = await start('--max-sessions-per-room', '1');
    const first = await synced(server, 'full', 'first');
    const second = await server.connect('full', 'second');
    expect((await second.closed()).code).toBe(4430);
    // Another room is not affected by this room being full.
    await synced(server, 'other-room', 'third');
    expect(await first.write([{ 'a/B': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
    expect(first.ofType('clientCount').map((f) => f.count)).not.toContain(2);
  });

  it('[B4] a room beyond --max-rooms is refused with 4431; the open room still takes sessions', async () => {
    const server = await start('--max-rooms', '1');
    const first = await synced(server, 'room-a', 'first');
    const stranger = await server.connect('room-b', 'stranger');
    expect((await stranger.closed()).code).toBe(4431);
    const peer = await synced(server, 'room-a', 'peer');
    expect(await peer.write([{ 'a/B': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
    await first.waitForFrame('the broadcast', (f) => f.type === 'patch' && f.clientId === 'peer');
  });

  it('[B3] ten invalid frames get error frames; the eleventh closes the session with 4406', async () => {
    const server = await start();
    const client = await synced(server, 'invalid', 'client');
    for (let i = 0; i < 10; i++) client.send(`not json ${i}`);
    await client.waitFor('10 error frames', () => (client.ofType('error').length === 10 ? true : undefined));
    expect(
      client.ofType('error').every((f) => f.code === 'invalid-json' && typeof f.message === 'string'),
    ).toBe(true);
    // Still served after ten: the budget is more than 10 invalid frames.
    expect(await client.write([{ 'a/B': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
    client.send({ type: 'patch', messageId: 7, documentPatches: [] });
    expect((await client.closed()).code).toBe(4406);
    expect(client.ofType('error')).toHaveLength(11);
    expect(client.ofType('error')[10]).toMatchObject({ code: 'invalid-field' });
  });

  it('[B2] an invalid frame is answered with an error naming the problem and changes nothing', async () => {
    const server = await start();
    const client = await synced(server, 'invalid-one', 'client');
    client.send({ type: 'patch', messageId: 'x', documentPatches: [{ 'a/B': { v: 1 } }, 'not a patch'] });
    client.send({ type: 'nonsense' });
    await client.waitFor('2 error frames', () => (client.ofType('error').length === 2 ? true : undefined));
    expect(client.ofType('error').map((f) => f.code)).toEqual(['invalid-patch', 'unknown-type']);
    expect(client.ofType('ack')).toEqual([]);
    const reader = await server.connect('invalid-one', 'reader');
    const { reply, synced: done } = await reader.sync(0);
    expect(reply).toBeUndefined();
    expect(done.timestamp).toBe(0);
  });
});

describe('[server] --allowed-origins', () => {
  it('[server] refuses an upgrade from another Origin with HTTP 403 and accepts the allowed one', async () => {
    const server = await start('--allowed-origins', 'http://good.example, http://also-good.example');
    await expect(server.connect('origin', 'evil', { origin: 'http://evil.example' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(server.connect('origin', 'no-origin')).rejects.toMatchObject({ status: 403 });

    const good = await server.connect('origin', 'good', { origin: 'http://good.example' });
    await good.sync(0);
    expect(await good.write([{ 'a/B': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
    const alsoGood = await server.connect('origin', 'also', { origin: 'http://also-good.example' });
    await alsoGood.sync(0);

    const samples = await server.metrics();
    expect(samples).toContainEqual({
      name: 'canvas_connections_refused_total',
      labels: { code: '403' },
      value: 2,
    });
  });
});
