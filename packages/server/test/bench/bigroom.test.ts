/**
 * The pure parts of the big-room benchmark (bench/bigroom, issue 15, SPEC 11):
 * flag parsing, the split of clients into roles and processes, percentiles,
 * the "keeps up" verdict, the /proc/net/tcp reader and the docs block. No
 * timing: the benchmark itself is `npm run bench:bigroom`.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, roleOf, roles, shareClients } from '../../bench/bigroom/config.js';
import { DOC_END, DOC_START, withDocsBlock } from '../../bench/bigroom/report.js';
import { queuedBytesOnPort } from '../../bench/bigroom/server-sampler.js';
import { concat, keepsUp, percentile, type Sample, trend } from '../../bench/bigroom/stats.js';

function sample(t: number, backlog: number, delay: number, rss = 100e6): Sample {
  return {
    t,
    serverBufferedBytes: backlog,
    kernelQueuedBytes: 0,
    serverRssBytes: rss,
    delayP50Ms: delay,
    delayP99Ms: delay,
    cursorUpdatesPerSec: 0,
    loadavg: 0,
  };
}

describe('[bench] big-room configuration (SPEC 11)', () => {
  it('defaults to the issue scenario: 250/500/1,000 clients, 10% at 20 Hz, 1% at 2 Hz, 10 s join storm', () => {
    const config = parseConfig([]);
    expect(config.sizes).toEqual([250, 500, 1000]);
    expect([config.moverShare, config.cursorHz, config.writerShare, config.writeHz]).toEqual([
      0.1, 20, 0.01, 2,
    ]);
    expect(config.joinStormMs).toBe(10_000);
    expect(config.variants).toEqual(['ours-coalesced', 'ours-uncoalesced', 'published']);
    expect(config.writeDocs).toBe(true);
  });

  it('--quick shrinks the run and leaves the docs alone unless --docs', () => {
    const quick = parseConfig(['--quick']);
    expect(quick.quick).toBe(true);
    expect(Math.max(...quick.sizes)).toBeLessThan(1000);
    expect(quick.measureMs).toBeLessThan(parseConfig([]).measureMs);
    expect(quick.writeDocs).toBe(false);
    expect(parseConfig(['--quick', '--docs']).writeDocs).toBe(true);
  });

  it('reads sizes, windows and variants, and refuses bad values with the flag named', () => {
    const config = parseConfig(['--sizes', '10, 20', '--measure-ms', '5000', '--variants', 'published']);
    expect(config.sizes).toEqual([10, 20]);
    expect(config.measureMs).toBe(5000);
    expect(config.variants).toEqual(['published']);
    expect(() => parseConfig(['--sizes', '10,x'])).toThrow(/--sizes/);
    expect(() => parseConfig(['--sizes', '1'])).toThrow(/--sizes/);
    expect(() => parseConfig(['--workers', '0'])).toThrow(/--workers/);
    expect(() => parseConfig(['--variants', 'ours'])).toThrow(/unknown variant 'ours'/);
    expect(() => parseConfig(['--docs', '--no-docs'])).toThrow(/contradict/);
    expect(() => parseConfig(['--bogus'])).toThrow();
  });

  it('spreads exactly 10% movers and 1% writers over the room', () => {
    for (const size of [250, 500, 1000, 7]) {
      const counts = roles(size, { moverShare: 0.1, writerShare: 0.01 });
      const all = Array.from({ length: size }, (_, index) => roleOf(index, size, counts));
      expect(all.filter((role) => role.mover).length).toBe(counts.movers);
      expect(all.filter((role) => role.writer).length).toBe(counts.writers);
    }
    expect(roles(1000, { moverShare: 0.1, writerShare: 0.01 })).toEqual({ movers: 100, writers: 10 });
    // Both load generators get movers when the room is split in halves.
    const counts = roles(1000, { moverShare: 0.1, writerShare: 0.01 });
    const firstHalf = Array.from({ length: 500 }, (_, index) => roleOf(index, 1000, counts).mover);
    expect(firstHalf.filter(Boolean).length).toBe(50);
  });

  it('shares the clients over the load-generator processes without gaps or overlaps', () => {
    expect(shareClients(1000, 3)).toEqual([
      { first: 0, count: 334 },
      { first: 334, count: 333 },
      { first: 667, count: 333 },
    ]);
    expect(shareClients(1, 2)).toEqual([{ first: 0, count: 1 }]);
  });
});

describe('[bench] big-room statistics', () => {
  it('takes nearest-rank percentiles and concatenates worker arrays', () => {
    const values = concat([Float64Array.from([5, 1, 4]), [3, 2, 10, 9, 8, 7, 6]]);
    expect(values.length).toBe(10);
    expect(percentile(values, 0.5)).toBe(5);
    expect(percentile(values, 0.99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile(values, 1.5)).toThrow(RangeError);
  });

  it('compares the first and last thirds of a window', () => {
    const result = trend([0, 1, 2, 3, 4, 5], [10, 10, 20, 20, 30, 30]);
    expect(result.first).toBe(10);
    expect(result.last).toBe(30);
    expect(result.perSecond).toBe(5);
  });

  it('a flat backlog and delay keep up; a growing backlog or delay does not; warm-up samples are ignored', () => {
    const flat = [sample(-2, 50e6, 9000), ...[0, 1, 2, 3, 4, 5].map((t) => sample(t, 4e6, 30))];
    expect(keepsUp(flat).keepsUp).toBe(true);
    const growingBacklog = [0, 1, 2, 3, 4, 5].map((t) => sample(t, (t + 1) * 4e6, 30));
    expect(keepsUp(growingBacklog).keepsUp).toBe(false);
    const smallBacklog = [0, 1, 2, 3, 4, 5].map((t) => sample(t, (t + 1) * 1e4, 30));
    expect(keepsUp(smallBacklog).keepsUp).toBe(true);
    const growingDelay = [0, 1, 2, 3, 4, 5].map((t) => sample(t, 0, 200 * (t + 1)));
    expect(keepsUp(growingDelay).keepsUp).toBe(false);
    const noArrivals = [0, 1, 2].map((t) => sample(t, 0, Number.NaN));
    expect(keepsUp(noArrivals).keepsUp).toBe(false);
    // A queue in the server's own memory: sockets empty, delay steady, RSS climbing.
    const growingRss = [0, 1, 2, 3, 4, 5].map((t) => sample(t, 0, 30, 100e6 + t * 20e6));
    expect(keepsUp(growingRss).keepsUp).toBe(false);
    const noisyRss = [0, 1, 2, 3, 4, 5].map((t) => sample(t, 0, 30, 100e6 + (t % 2) * 20e6));
    expect(keepsUp(noisyRss).keepsUp).toBe(true);
  });
});

describe('[bench] big-room readers and docs block', () => {
  it('sums send and receive queues of connections with the server port at either end', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 0100007F:1F90 0100007F:A000 01 00000100:00000010 00:00000000 00000000     0        0 2 1',
      '   2: 0100007F:A000 0100007F:1F90 01 00000001:00001000 00:00000000 00000000     0        0 3 1',
      '   3: 0100007F:1F91 0100007F:A001 01 00010000:00010000 00:00000000 00000000     0        0 4 1',
    ].join('\n');
    expect(queuedBytesOnPort(text, 8080)).toBe(0x100 + 0x10 + 0x1 + 0x1000);
  });

  it('replaces the block between its markers and appends it when absent', () => {
    const page = `# Perf\n\nintro\n\n${DOC_START}\nold\n${DOC_END}\n\nafter\n`;
    const block = `${DOC_START}\nnew\n${DOC_END}`;
    expect(withDocsBlock(page, block)).toBe(`# Perf\n\nintro\n\n${block}\n\nafter\n`);
    expect(withDocsBlock('# Perf\n', block)).toBe(`# Perf\n\n${block}\n`);
  });
});
