/**
 * SPEC B7 against the real server process (issue 11): one session floods a
 * room with presence keys, document keys or document bytes. Every write past
 * a quota is refused whole with its own `error` code; the memory the room
 * holds afterwards stays under the worst case derived from the default limits
 * (docs/limits.md); newcomers and other rooms keep being served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROOM_LIMITS } from '../../src/index.js';
import { MiB, measure, recordAttack, startAbuseServer } from '../harness/abuse/abuse-harness.js';
import { scaled } from '../harness/reliability-harness.js';
import { cleanup, metric, readRoom } from '../harness/server-process.js';
import { keyFlood } from './frame-attacks.js';
import { BYTE_FACTOR, clientPresenceWorstCase, roomDocumentWorstCase } from './memory-model.js';

afterEach(cleanup);

const SLACK = 48 * MiB;
const limits = DEFAULT_ROOM_LIMITS;

describe('[B7] quotas at their defaults', () => {
  it('[B7] a presence flood stops at the per-client key quota (ephemeral-key-quota); a newcomer gets a bounded frame', async () => {
    // Fewer frames than the rate limit's burst (300): this attack is about the quota.
    const perFrame = scaled(128, 1_000);
    const total = scaled(30_000, 256_000);
    const probed = await startAbuseServer();
    const { figures, result } = await measure(probed, () =>
      keyFlood(probed.server, {
        total,
        perFrame,
        list: 'ephemeralPatches',
        roomId: 'presence',
      }),
    );
    recordAttack('presence-flood', { ...figures, ...result });
    expect(figures.crashed).toBe(false);
    expect(result?.acked).toBe(Math.floor(limits.maxEphemeralKeysPerClient / perFrame));
    expect(result?.errorCodes.length).toBeGreaterThan(0);
    expect(new Set(result?.errorCodes)).toEqual(new Set(['ephemeral-key-quota']));
    expect(result?.bystanderServed).toBe(true);
    // What a newcomer is sent of this client is bounded by its quotas.
    expect(result?.newcomerFrameBytes).toBeLessThan(limits.maxEphemeralBytesPerClient * BYTE_FACTOR);
    expect(figures.rssGrowthAfterGc).toBeLessThan(clientPresenceWorstCase() + SLACK);
  });

  it('[B7] a document key flood stops at the room key quota (room-key-quota) and the room stays under its worst case', async () => {
    const probed = await startAbuseServer();
    const { figures, result } = await measure(probed, () =>
      keyFlood(probed.server, {
        total: scaled(120_000, 300_000),
        perFrame: 10_000,
        list: 'documentPatches',
        roomId: 'keys',
      }),
    );
    recordAttack('document-key-flood', { ...figures, ...result });
    expect(figures.crashed).toBe(false);
    expect(result?.acked).toBe(limits.maxRoomKeys / 10_000);
    expect(new Set(result?.errorCodes)).toEqual(new Set(['room-key-quota']));
    expect(result?.bystanderServed).toBe(true);
    expect(figures.rssGrowthAfterGc).toBeLessThan(roomDocumentWorstCase() + SLACK);
    const samples = await probed.server.metrics();
    expect(metric(samples, 'canvas_frames_rejected_total', { reason: 'room-key-quota' })).toBe(
      result?.errorCodes.length,
    );
    expect(metric(samples, 'canvas_limit_hits_total', { limit: 'maxRoomKeys' })).toBe(
      result?.errorCodes.length,
    );
  });

  it('[B7] a document byte flood stops at the room byte quota (room-bytes-quota); a newcomer still gets the whole room', async () => {
    // Short: an 8 MiB quota, and a 1 MiB backlog bound so the newcomer's reply is larger than it.
    const maxRoomBytes = scaled(8 * MiB, limits.maxRoomBytes);
    const probed = await startAbuseServer([
      '--max-room-bytes',
      String(maxRoomBytes),
      '--max-buffered-bytes',
      String(scaled(MiB, 8 * MiB)),
    ]);
    const server = probed.server;
    const value = 'x'.repeat(MiB);
    const frames = maxRoomBytes / MiB + 4;
    const { figures, result } = await measure(probed, async () => {
      const attacker = await server.connect('bytes', 'attacker');
      await attacker.sync(0);
      let acked = 0;
      const codes: string[] = [];
      for (let i = 0; i < frames && !attacker.closeInfo; i++) {
        const from = attacker.frames.length;
        attacker.sendPatch([{ [`big${i}/C`]: { _exists: true, s: value } }]);
        const answer = await attacker.waitForFrame(
          'an answer',
          (f) => f.type === 'ack' || f.type === 'error',
          from,
        );
        if (answer.type === 'ack') acked++;
        else codes.push(String(answer.code));
        // Past the 16 MiB burst, stay under the byte rate (4 MiB/s): this attack is about the quota.
        if (i >= 12) await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return { acked, codes };
    });
    recordAttack('document-byte-flood', { ...figures, ...result });
    expect(figures.crashed).toBe(false);
    expect(result?.acked).toBeLessThanOrEqual(maxRoomBytes / MiB);
    expect(result?.acked).toBeGreaterThan(maxRoomBytes / MiB - 2);
    expect(new Set(result?.codes)).toEqual(new Set(['room-bytes-quota']));
    const state = await readRoom(server, 'bytes');
    expect(Object.keys(state)).toHaveLength(result?.acked ?? -1);
    expect(figures.rssGrowthAfterGc).toBeLessThan(roomDocumentWorstCase({ ...limits, maxRoomBytes }) + SLACK);
  });
});
