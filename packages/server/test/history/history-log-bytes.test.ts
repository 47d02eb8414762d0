/**
 * The in-memory history log of the memory and file backends keeps running
 * sizes beside its entries (SPEC H3): the kept bytes must stay equal to the
 * sum of the kept entries' sizes through appends, failed commits (dropAfter),
 * compactions and the cut-off of the dropped prefix.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryDropReason, HistoryWrite } from '../../src/index.js';
import { historyWriteBytes } from '../../src/storage/history-bytes.js';
import { HistoryLog, resolveHistoryRetention } from '../../src/storage/history-log.js';
import { seededRandom } from '../helpers/seeded-random.js';

function write(clock: number, size: number): HistoryWrite {
  return {
    clock,
    time: clock,
    clientId: 'c',
    keys: ['k'],
    previous: [{ key: 'k', data: { _exists: true, t: 'x'.repeat(size) }, stamps: { _exists: 1, t: 1 } }],
  };
}

describe('[H3] HistoryLog byte retention', () => {
  it('[H3] the kept bytes equal the sum of the kept entries and never pass maxBytes, through appends, failed commits and cut-offs', () => {
    const random = seededRandom(5);
    const dropped = new Map<HistoryDropReason, number>();
    const maxBytes = 5_000;
    const log = new HistoryLog(
      resolveHistoryRetention({
        maxBytes,
        onDropped: (reason, entries) => dropped.set(reason, (dropped.get(reason) ?? 0) + entries),
      }),
      () => 0,
    );
    let clock = 0;
    for (let step = 0; step < 2_000; step++) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
        write(++clock, Math.floor(random() * 1_500)),
      );
      log.append(batch);
      if (random() < 0.1) {
        // A failed commit: its writes leave the log, the clock goes back.
        clock -= batch.length;
        log.dropAfter(clock);
      }
      const horizon = log.compact(clock);
      const kept = log.all();
      const sum = kept.reduce((total, entry) => total + historyWriteBytes(entry), 0);
      expect(log.bytes).toBe(sum);
      expect(sum).toBeLessThanOrEqual(maxBytes);
      // The kept entries are contiguous, from just after the horizon up to the clock.
      if (kept.length > 0) {
        expect(kept.map((entry) => entry.clock)).toEqual(
          Array.from({ length: kept.length }, (_, i) => horizon + 1 + i),
        );
        expect(kept.at(-1)?.clock).toBe(clock);
      } else expect(horizon).toBe(clock);
    }
    expect(dropped.get('bytes')).toBeGreaterThan(0);
    expect(dropped.get('count')).toBeUndefined();
  });
});
