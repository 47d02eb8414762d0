/**
 * clientCount churn in a big room (issue 11): every connect and disconnect
 * sends `clientCount` to every session (SPEC S1), so one client that
 * reconnects in a loop makes the server send room-size frames per cycle.
 * The bound is what the room's sessions can be sent: each session's backlog
 * stays under `maxBufferedBytes`, so memory follows the limits; the room's
 * members keep being served and end with the right count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MiB, measure, recordAttack, startAbuseServer } from '../harness/abuse/abuse-harness.js';
import { scaled } from '../harness/reliability-harness.js';
import { cleanup, type WireClient } from '../harness/server-process.js';
import { bystanderServed } from './frame-attacks.js';

afterEach(cleanup);

const SLACK = 48 * MiB;
/** Bytes of one clientCount frame, with its WebSocket header. */
const CLIENT_COUNT_FRAME = 40;

describe('[B6][S1] clientCount churn in a big room', () => {
  it('[B6][S1] a client reconnecting in a loop costs frames, not memory; members end with the right count', async () => {
    const members = scaled(200, 1_000);
    const cycles = scaled(100, 1_000);
    // One address holds the whole room here: the per-address cap (B8) is not what this measures.
    const probed = await startAbuseServer([
      '--max-sessions-per-room',
      String(members + 10),
      '--max-connections-per-address',
      String(members + 20),
    ]);
    const server = probed.server;
    const room: WireClient[] = [];
    for (let i = 0; i < members; i++) room.push(await server.connect('big', `member-${i}`));
    await room[0]?.waitForFrame('all members', (f) => f.type === 'clientCount' && f.count === members);
    const { figures, result } = await measure(probed, async () => {
      for (let i = 0; i < cycles; i++) {
        const churner = await server.connect('big', 'churner');
        churner.close();
        await churner.closed();
      }
      return { bystanderServed: await bystanderServed(server) };
    });
    const last = room[members - 1] as WireClient;
    await last.waitForFrame(
      'the count after the churn',
      (f) => f.type === 'clientCount' && f.count === members,
      last.frames.length - 1,
    );
    const framesPerMember = last.ofType('clientCount').length;
    recordAttack('clientcount-churn', { ...figures, members, cycles, framesPerMember });
    expect(figures.crashed).toBe(false);
    expect(result?.bystanderServed).toBe(true);
    // Every member is sent at most two frames per cycle and reads them: nothing piles up.
    expect(framesPerMember).toBeLessThanOrEqual(2 * cycles + members);
    expect(figures.rssGrowthAfterGc).toBeLessThan(members * 2 * cycles * CLIENT_COUNT_FRAME + SLACK);
    // The room is still served: a member's write reaches another member.
    const ack = await (room[0] as WireClient).write([{ 'after/C': { _exists: true } }]);
    await last.waitForFrame('the write after the churn', (f) => f.timestamp === ack.timestamp);
  });
});
