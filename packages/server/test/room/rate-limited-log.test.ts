/** The shared rate-limited log line of the limits (SPEC B6, B7): one line per kind per interval, with a count of the rest. */
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
    const log = new RateLimitedLog(logger, 1_000, () => now);
    log.warn('maxRoomKeys', { roomId: 'r' }, 'refused');
    for (let i = 0; i < 500; i++) log.warn('maxRoomKeys', { roomId: 'r' }, 'refused');
    log.warn('maxRoomBytes', {}, 'other kind');
    expect(logger.lines).toHaveLength(2);
    now = 1_000;
    log.warn('maxRoomKeys', { roomId: 'r' }, 'refused');
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[2]?.context).toMatchObject({ roomId: 'r', limit: 'maxRoomKeys', suppressed: 500 });
  });
});
