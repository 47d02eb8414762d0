/**
 * A client that stops reading is dropped (close code 4433 in the metrics)
 * once its unsent bytes pass --max-buffered-bytes, so the server's memory
 * stays bounded however long a writer floods the room; the other sessions
 * keep being served.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, metric, ServerProcess, type WireClient } from '../../harness/server-process.js';

afterEach(cleanup);

const MAX_BUFFERED = 65_536;
/** Each write carries ~48 KiB, so each broadcast to the slow reader is that big. */
const VALUE = 'x'.repeat(48 * 1024);
/** Stop flooding after this much (~300 MiB) if the slow reader was never dropped: the test then fails. */
const MAX_WRITES = 6_000;
const RSS_GROWTH_BOUND = 200 * 1024 * 1024;

function pauseReading(client: WireClient): Socket {
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  return socket;
}

describe('[B4] slow consumers', () => {
  it('[B4] a client that stops reading is dropped with 4433 and the server memory stays bounded', async () => {
    const server = await ServerProcess.start({
      args: [
        '--storage',
        'memory',
        '--max-buffered-bytes',
        String(MAX_BUFFERED),
        // Let one writer flood freely: the bound under test is the slow reader's.
        '--frames-per-second',
        '100000',
        '--bytes-per-second',
        '1000000000',
      ],
    });
    const slow = await server.connect('flood', 'slow');
    await slow.sync(0);
    const reader = await server.connect('flood', 'reader');
    await reader.sync(0);
    const writer = await server.connect('flood', 'writer');
    await writer.sync(0);
    await slow.waitForFrame('3 clients', (f) => f.type === 'clientCount' && f.count === 3);
    const slowSocket = pauseReading(slow);

    const rssBefore = server.rssBytes();
    let peakRss = rssBefore;
    let writes = 0;
    // One write at a time (each acked before the next) keeps the healthy reader's
    // per-iteration backlog at one frame; only the paused client's backlog grows.
    const dropped = () => writer.frames.some((f) => f.type === 'clientCount' && f.count === 2);
    while (!dropped() && writes < MAX_WRITES) {
      await writer.write([{ 'doc/Blob': { s: VALUE, n: writes } }]);
      writes++;
      if (writes % 50 === 0) peakRss = Math.max(peakRss, server.rssBytes());
    }
    peakRss = Math.max(peakRss, server.rssBytes());
    expect(dropped()).toBe(true);
    expect(peakRss - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);

    // The server recorded why: close code 4433 (slow consumer).
    const samples = await server.metrics();
    expect(metric(samples, 'canvas_closes_total', { code: '4433' })).toBe(1);
    expect(metric(samples, 'canvas_connections')).toBe(2);

    // The others keep being served: the writer gets acks, the healthy reader the broadcast.
    const ack = await writer.write([{ 'doc/After': { ok: true } }]);
    await reader.waitForFrame(
      'the write after the drop',
      (f) => f.type === 'patch' && f.timestamp === ack.timestamp,
    );
    expect(reader.closeInfo).toBeUndefined();
    expect(server.logs()).toContainEqual(
      expect.objectContaining({ msg: 'client dropped: it stopped reading' }),
    );

    // Once it reads again, the slow client finds its connection cut (no close handshake).
    slowSocket.resume();
    expect((await slow.closed()).code).toBe(1006);
  });
});
