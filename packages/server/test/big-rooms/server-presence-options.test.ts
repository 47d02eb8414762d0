/**
 * The runnable server's presence options (flags, variables, validation) and
 * metrics (SPEC R1, R2): in-process server, raw `ws` clients.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config/load-config.js';
import { ConfigError } from '../../src/server/config/server-config.js';
import { cleanupAll, type Frame, startServer, WAIT_MS, WireClient } from '../harness/server-harness.js';

afterEach(async () => {
  await cleanupAll();
});

/** The value of one un-labelled metric in the exposition text. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('presence options of the server command (R1)', () => {
  it('[R1] --presence-tick-ms and --presence-bytes-per-second parse, as do their variables; defaults are 50 and 256 KiB', () => {
    expect(loadConfig([], {})).toMatchObject({ presenceTickMs: 50, presenceBytesPerSecond: 262_144 });
    expect(loadConfig(['--presence-tick-ms', '0', '--presence-bytes-per-second', '1000'], {})).toMatchObject({
      presenceTickMs: 0,
      presenceBytesPerSecond: 1000,
    });
    expect(
      loadConfig([], { CANVAS_PRESENCE_TICK_MS: '20', CANVAS_PRESENCE_BYTES_PER_SECOND: '5000' }),
    ).toMatchObject({ presenceTickMs: 20, presenceBytesPerSecond: 5000 });
  });

  it('[R1] invalid values are refused with an error naming the flag or variable', () => {
    expect(() => loadConfig(['--presence-tick-ms', '-5'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--presence-tick-ms', '-5'], {})).toThrow(/--presence-tick-ms/);
    expect(() => loadConfig(['--presence-bytes-per-second', '0'], {})).toThrow(/--presence-bytes-per-second/);
    expect(() => loadConfig([], { CANVAS_PRESENCE_TICK_MS: 'soon' })).toThrow(/CANVAS_PRESENCE_TICK_MS/);
  });
});

describe('presence metrics (R1, R2)', () => {
  it(
    '[R1][R2] ticks, coalesced updates and bytes saved are counted',
    async () => {
      const { server, port } = await startServer({ presenceTickMs: 50 });
      const mover = await WireClient.join(port, { roomId: 'metrics', clientId: 'mover', token: 't' });
      const watchers = await Promise.all(
        ['w1', 'w2', 'w3'].map((clientId) =>
          WireClient.join(port, { roomId: 'metrics', clientId, token: 't' }),
        ),
      );
      mover.send({
        type: 'patch',
        messageId: 'c',
        ephemeralPatches: [{ 'cursor/mover': { _exists: true, x: 0 } }],
      });
      for (let i = 1; i <= 30; i++) {
        mover.send({ type: 'patch', messageId: `m${i}`, ephemeralPatches: [{ 'cursor/mover': { x: i } }] });
      }
      for (const watcher of watchers) {
        await watcher.waitForFrame(
          (f: Frame) =>
            f.type === 'patch' &&
            (f.ephemeralPatches as Array<Record<string, { x?: number }>> | undefined)?.some(
              (patch) => patch['cursor/mover']?.x === 30,
            ) === true &&
            f.clientId === '',
          'the last cursor position, coalesced',
        );
      }
      const { body: text } = await server.metrics.render();
      expect(metric(text, 'canvas_presence_ticks_total')).toBeGreaterThan(0);
      // 31 updates of one key reached the server; the first tick sent the first, later ticks folded the rest.
      expect(metric(text, 'canvas_presence_coalesced_updates_total')).toBeGreaterThan(0);
      expect(metric(text, 'canvas_presence_bytes_saved_total')).toBeGreaterThan(0);
    },
    WAIT_MS * 3,
  );
});
