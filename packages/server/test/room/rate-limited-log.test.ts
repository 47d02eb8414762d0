/** The shared rate-limited log line of limits and refusals (SPEC B6-B8): a burst of lines per kind per interval, with a count of the rest. */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/index.js';
import { RateLimitedLog } from '../../src/room/rate-limited-log.js';

function recorder(): Logger & { lines: Array<{ context: Record<string, unknown>; message: string }> } {
  const lines: Array<{ context: Record<string, unknown>; message: string }> = [];
  const add = (context: object, message: string) =>
    lines.push({ context: context as Record<string, unknown>, message });
  return { lines, debug: add, info: add, warn: add, error: add };
}

describe('[B6] RateLimitedLog', () => {
  it('[B6] logs the first event of a kind, counts the others until the interval passed', () => {
    const logger = recorder();
    let now = 0;
    const log = new RateLimitedLog(logger, { intervalMs: 1_000, now: () => now });
    log.log('maxRoomKeys', { roomId: 'r' }, 'refused');
    for (let i = 0; i < 500; i++) log.log('maxRoomKeys', { roomId: 'r' }, 'refused');
    log.log('maxRoomBytes', {}, 'other kind');
    expect(logger.lines).toHaveLength(2);
    now = 1_000;
    log.log('maxRoomKeys', { roomId: 'r' }, 'refused');
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[2]?.context).toMatchObject({ roomId: 'r', limit: 'maxRoomKeys', suppressed: 500 });
  });
});

describe('[B8] RateLimitedLog for refusals', () => {
  it('[B8] with a burst, that many lines per interval and kind, at the given level and kind field', () => {
    const logger = recorder();
    let now = 0;
    const log = new RateLimitedLog(logger, { level: 'info', burst: 3, kindField: 'kind', now: () => now });
    for (let i = 0; i < 50; i++) log.log('4401', { code: 4401 }, 'connection refused');
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[0]).toEqual({
      context: { code: 4401, kind: '4401', suppressed: 0 },
      message: 'connection refused',
    });
    now = 20_000;
    log.log('4401', { code: 4401 }, 'connection refused');
    expect(logger.lines[3]?.context).toMatchObject({ suppressed: 47 });
  });

  it('[B8] logs at the configured level only', () => {
    const infos: string[] = [];
    const warns: string[] = [];
    const logger = {
      debug: () => {},
      info: (_: object, message: string) => infos.push(message),
      warn: (_: object, message: string) => warns.push(message),
      error: () => {},
    };
    new RateLimitedLog(logger, { level: 'info' }).log('a', {}, 'refused');
    new RateLimitedLog(logger).log('a', {}, 'limit hit');
    expect(infos).toEqual(['refused']);
    expect(warns).toEqual(['limit hit']);
  });
});
