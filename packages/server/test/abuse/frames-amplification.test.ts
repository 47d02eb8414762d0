/**
 * SPEC B6 against the real server process on loopback (issue 11): frames
 * that ask for far more memory or work than their size. Each attack is
 * bounded in count and time; the assertions are memory bounds derived from
 * the configured limits, the attacker's documented code, and bystanders
 * (another room, and the rest of the attacked room) still being served.
 * Figures (RSS, worst loop delay) are recorded, never compared to a time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROOM_LIMITS } from '../../src/index.js';
import { MiB, measure, recordAttack, startAbuseServer } from '../harness/abuse/abuse-harness.js';
import { scaled } from '../harness/reliability-harness.js';
import { cleanup, metric } from '../harness/server-process.js';
import { bufferBomb, deepNesting, reconnectFlood, seedDocument } from './frame-attacks.js';
import { sessionWorstCase } from './memory-model.js';

afterEach(cleanup);

/** Allocator and GC noise of one process on a shared machine: RSS moves by this much without any attack. */
const SLACK = 48 * MiB;
/** The entries a frame may materialise, as the server holds them (8 bytes each, twice while an array is rebuilt). */
const BUFFER_BUDGET_BYTES = DEFAULT_ROOM_LIMITS.maxBufferEntriesPerFrame * 8 * 2;
const MAX_BUFFERED_BYTES = 8 * MiB; // the server's default --max-buffered-bytes

describe('[B6] amplification by one frame', () => {
  it.each(['documentPatches', 'ephemeralPatches'] as const)(
    '[B6] a ~150 KB frame of 3,000 buffer deltas of 100,000 in %s is refused whole (buffer-budget-exceeded)',
    async (list) => {
      const probed = await startAbuseServer();
      const { figures, result } = await measure(probed, () =>
        bufferBomb(probed.server, { deltas: 3_000, len: 100_000, list, frames: scaled(3, 9) }),
      );
      recordAttack(`buffer-bomb-${list}`, { ...figures, ...result });
      expect(figures.crashed).toBe(false);
      expect(result?.errorCodes.every((code) => code === 'buffer-budget-exceeded')).toBe(true);
      expect(result?.errorCodes.length).toBeGreaterThan(0);
      expect(result?.acked).toBe(0);
      expect(result?.bystanderServed).toBe(true);
      expect(figures.peakRssGrowth).toBeLessThan(BUFFER_BUDGET_BYTES + SLACK);
      const samples = await probed.server.metrics();
      expect(
        metric(samples, 'canvas_limit_hits_total', { limit: 'maxBufferEntriesPerFrame' }),
      ).toBeGreaterThan(0);
    },
  );

  it('[B6] 2 MiB frames nested a million levels deep are refused before parsing (too-deep)', async () => {
    const probed = await startAbuseServer();
    const { figures, result } = await measure(probed, () =>
      deepNesting(probed.server, { bytes: 2 * MiB - 1024, frames: scaled(5, 9) }),
    );
    recordAttack('deep-nesting', { ...figures, ...result });
    expect(figures.crashed).toBe(false);
    expect(result?.errorCodes.length).toBeGreaterThan(0);
    expect(result?.errorCodes.every((code) => code === 'too-deep')).toBe(true);
    expect(result?.bystanderServed).toBe(true);
    // Each frame is held once as text while it is scanned; nothing is built from it.
    expect(figures.rssGrowthAfterGc).toBeLessThan(SLACK);
  });
});

describe('[B6] read-only reconnect amplification', () => {
  it('[B6] a client that stops reading and sends 200 reconnects in one write is cut as a slow consumer (4433)', async () => {
    const docBytes = 2.5 * MiB;
    const probed = await startAbuseServer();
    await seedDocument(probed.server, docBytes);
    const neighbour = await probed.server.connect('amplify', 'neighbour');
    await neighbour.sync(0);
    const { figures, result } = await measure(probed, () =>
      reconnectFlood(probed.server, { reconnects: scaled(200, 1_000) }),
    );
    recordAttack('reconnect-flood', { ...figures, ...result, docBytes });
    expect(figures.crashed).toBe(false);
    // What one session may queue: its backlog bound, plus one reply beyond it and the one that tripped it.
    expect(figures.peakRssGrowth).toBeLessThan(MAX_BUFFERED_BYTES + 2 * docBytes + SLACK);
    // ...and so within what docs/limits.md promises for one session at the defaults.
    expect(figures.peakRssGrowth).toBeLessThan(sessionWorstCase(MAX_BUFFERED_BYTES));
    expect(result?.acked).toBeLessThan(2);
    expect(result?.bystanderServed).toBe(true);
    const samples = await probed.server.metrics();
    expect(metric(samples, 'canvas_closes_total', { code: '4433' })).toBe(1);
    expect(metric(samples, 'canvas_limit_hits_total', { limit: 'reconnectReplies' })).toBe(1);
    // The rest of the room keeps being served.
    const writer = await probed.server.connect('amplify', 'after');
    await writer.sync(0);
    const ack = await writer.write([{ 'after/C': { _exists: true } }]);
    await neighbour.waitForFrame('the write after the attack', (f) => f.timestamp === ack.timestamp);
  });
});
