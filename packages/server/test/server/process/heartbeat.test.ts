/**
 * Heartbeats: a connection that stops answering pings is terminated after
 * missed intervals, and the room treats it as a departure: its presence is
 * removed for the others (SPEC E3) and the client count drops (SPEC S1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, metric, ServerProcess, waitUntil } from '../../harness/server-process.js';

afterEach(cleanup);

// Short enough to see several beats, long enough that the answering client's pong
// is never late on a loaded machine (a late pong would get it reaped too).
const INTERVAL = '1000';
const VIA: { via: string; args: string[]; env: Record<string, string> }[] = [
  { via: '--heartbeat-interval', args: ['--heartbeat-interval', INTERVAL], env: {} },
  { via: 'CANVAS_HEARTBEAT_INTERVAL_MS', args: [], env: { CANVAS_HEARTBEAT_INTERVAL_MS: INTERVAL } },
];

describe('[server] heartbeats', () => {
  it.each(VIA)(
    '[E3] ($via 1000) a client that stops answering pings is reaped and its cursor removed for the others',
    async ({ args, env }) => {
      const server = await ServerProcess.start({
        args: ['--storage', 'memory', '--log-level', 'debug', ...args],
        env,
      });
      const alive = await server.connect('beats', 'alive');
      let pings = 0;
      alive.ws.on('ping', () => {
        pings++;
      });
      await alive.sync(0);
      const silent = await server.connect('beats', 'silent', { autoPong: false });
      // Sync and set a cursor at once, as the published client does on open: it may be
      // reaped soon after, and the frames are handled in order before that.
      silent.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
      silent.sendPatch([], [{ 'silent/Cursor': { _exists: true, x: 3, y: 4 } }]);
      await alive.waitForFrame('2 clients', (f) => f.type === 'clientCount' && f.count === 2);
      // Presence is coalesced (SPEC R1): it arrives in a frame of the server (clientId '').
      const carriesCursor = (f: Record<string, unknown>) =>
        f.type === 'patch' &&
        f.clientId === '' &&
        f.documentPatches === undefined &&
        JSON.stringify(f.ephemeralPatches ?? []).includes('"silent/Cursor"');
      await alive.waitForFrame("the silent client's cursor", carriesCursor);
      const before = alive.frames.length;

      // The silent client never answers a ping: the server terminates it (no close frame).
      expect((await silent.closed()).code).toBe(1006);

      const removal = await alive.waitForFrame('the presence removal', carriesCursor, before);
      expect(removal.ephemeralPatches).toEqual([{ 'silent/Cursor': { _exists: false } }]);
      expect(removal.timestamp).toBeUndefined();
      await alive.waitForFrame('count 1', (f) => f.type === 'clientCount' && f.count === 1, before);

      // The answering client stays connected through several more pings and keeps being served.
      const pingsAtReap = pings;
      await waitUntil('two more pings to the answering client', () => pings >= pingsAtReap + 2);
      expect(await alive.write([{ 'a/B': { v: 1 } }])).toMatchObject({ type: 'ack', timestamp: 1 });
      expect(
        server.logs().filter((l) => l.msg === 'connection reaped after missing heartbeats'),
      ).toHaveLength(1);
      expect(alive.closeInfo).toBeUndefined();
      expect(metric(await server.metrics(), 'canvas_connections')).toBe(1);

      // A newcomer does not receive the reaped client's presence (it was forgotten).
      const late = await server.connect('beats', 'late');
      const { reply } = await late.sync(0);
      expect(reply?.ephemeralPatches).toBeUndefined();
    },
  );
});
