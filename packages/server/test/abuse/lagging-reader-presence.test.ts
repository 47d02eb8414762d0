/**
 * A reader that stops reading in a room full of moving cursors, coalescing
 * off (issue 15; SPEC B6, R1), against the real server command: far more
 * cursor frames are aimed at it than the kernel's buffers and its
 * `--max-buffered-bytes` hold together. Presence for a client that is behind
 * folds into one pending frame (the latest value of each key), so the reader
 * is not cut as a slow consumer for cursor moves, the server's heap stays
 * within its bound, and once it reads again it gets every mover's last cursor.
 * Bounds come from the limits and the room's shape, never from time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cursorKey, presenceOf } from '../harness/abuse/presence-frames.js';
import { recordFigures, scaled, startProbedServer } from '../harness/reliability-harness.js';
import { cleanup, metric, type WireClient, waitUntil } from '../harness/server-process.js';
import { retained, tcpOf } from '../harness/slow-clients.js';
import { BYTE_FACTOR } from './memory-model.js';

afterEach(cleanup);

const MiB = 1024 * 1024;
const MAX_BUFFERED = MiB;
const MOVERS = 12;
const MOVES = scaled(3_000, 6_000);
/** What loopback's socket buffers (both ends) take at most before anything stays queued in the server. */
const KERNEL_BUFFERS = 8 * MiB;
const PAD = 'p'.repeat(512);
const HEAP_SLACK = 8 * MiB;

describe('[B6] [R1] a reader behind in a room of moving cursors (coalescing off)', () => {
  it('[B6] [R1] it is not cut for cursor moves, memory stays bounded, and it gets every last cursor when it reads again', async () => {
    const { server, probe } = await startProbedServer({
      args: [
        '--storage',
        'memory',
        '--presence-tick-ms',
        '0',
        '--max-buffered-bytes',
        String(MAX_BUFFERED),
        // The paused reader does not answer pings: the heartbeat is not what is under test.
        '--heartbeat-interval',
        '600000',
        '--frames-per-second',
        '100000',
        '--bytes-per-second',
        '1000000000',
      ],
    });
    const roomId = 'lagging-reader-room';
    const movers: WireClient[] = [];
    for (let m = 0; m < MOVERS; m++) {
      const mover = await server.connect(roomId, `mover-${m}`);
      await mover.sync(0);
      movers.push(mover);
    }
    const lagging = await server.connect(roomId, 'lagging');
    await lagging.sync(0);
    const healthy = await server.connect(roomId, 'healthy');
    await healthy.sync(0);
    movers.forEach((mover, m) => {
      mover.sendPatch([], [{ [cursorKey(m)]: { _exists: true, x: 0, pad: PAD } }]);
    });
    await lagging.waitFor('every cursor', () =>
      movers.every((_, m) => presenceOf(lagging.frames).has(cursorKey(m))) ? true : undefined,
    );
    const baseline = await probe();

    tcpOf(lagging).pause();
    const patchesIn = async () =>
      metric(await server.metrics(), 'canvas_frames_in_total', { type: 'patch' }) ?? 0;
    const before = await patchesIn();
    let lastX = 0;
    for (let r = 1; r <= MOVES; r++) {
      lastX = r;
      movers.forEach((mover, m) => {
        mover.sendPatch([], [{ [cursorKey(m)]: { x: r, pad: PAD } }]);
      });
      // Let the movers' sockets drain now and then (pacing, not a measurement).
      if (r % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitUntil('every move read', async () => (await patchesIn()) === before + MOVES * MOVERS, 120_000);
    await healthy.waitFor('every last cursor (healthy)', () =>
      movers.every((_, m) => presenceOf(healthy.frames).get(cursorKey(m))?.x === lastX) ? true : undefined,
    );
    const during = await probe();
    const samples = await server.metrics();

    // Far more was aimed at the paused reader than its bound plus what loopback buffers take.
    const frameChars = JSON.stringify({
      type: 'patch',
      clientId: 'mover-00',
      ephemeralPatches: [{ [cursorKey(10)]: { x: MOVES, pad: PAD } }],
    }).length;
    const aimed = MOVES * MOVERS * frameChars;
    // One folded frame: every mover's cursor with its pad.
    const folded = MOVERS * (PAD.length + 100);
    const figures = {
      movers: MOVERS,
      moves: MOVES * MOVERS,
      aimedAtLaggingReader: aimed,
      maxBufferedBytes: MAX_BUFFERED,
      heapBaseline: retained(baseline),
      heapDuring: retained(during),
      rssBaseline: baseline.rss,
      rssDuring: during.rss,
      presenceTicks: metric(samples, 'canvas_presence_ticks_total') ?? 0,
    };
    recordFigures('lagging-reader-presence', figures);
    const context = JSON.stringify(figures);
    expect(aimed, context).toBeGreaterThan(2 * (MAX_BUFFERED + KERNEL_BUFFERS));
    // [B6] Not cut: what it was behind on was presence, folded.
    expect(metric(samples, 'canvas_closes_total', { code: '4433' }) ?? 0, context).toBe(0);
    expect(metric(samples, 'canvas_connections'), context).toBe(MOVERS + 2);
    // Its backlog (at most the bound) plus one folded frame, at the memory model's byte factor.
    expect(retained(during) - retained(baseline), context).toBeLessThan(
      (MAX_BUFFERED + folded) * BYTE_FACTOR + HEAP_SLACK,
    );

    // It reads again: every mover's last cursor arrives.
    tcpOf(lagging).resume();
    await lagging.waitFor(
      'every last cursor (lagging)',
      () =>
        movers.every((_, m) => presenceOf(lagging.frames).get(cursorKey(m))?.x === lastX) ? true : undefined,
      60_000,
    );
    // Fewer frames than moves reached it: the rest were folded.
    const received = lagging.frames.filter((f) => f.type === 'patch').length;
    expect(received, context).toBeLessThan(MOVES * MOVERS);
  }, 240_000);
});
