/**
 * Pure aggregation of the big-room benchmark: percentiles of delays, rates
 * over sample windows, and the backlog trend that says whether a server keeps up.
 */

/** The `q`-quantile (0..1) of `values` by nearest rank; NaN for an empty list. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (q < 0 || q > 1) throw new RangeError(`quantile must be within 0..1, got ${q}`);
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

/** Concatenates delay arrays (from several load-generator processes). */
export function concat(parts: readonly ArrayLike<number>[]): Float64Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One sample of the server and the load, taken every `sampleMs`. */
export interface Sample {
  /** Seconds since the measured window began (negative during warm-up). */
  t: number;
  /** Bytes the server process holds in its sockets' write buffers (userland; as of its last stats line, which a busy event loop delays). */
  serverBufferedBytes: number;
  /** Bytes queued in the kernel on the server's TCP connections, both directions (written, not yet read). */
  kernelQueuedBytes: number;
  /** Server resident set size, bytes. */
  serverRssBytes: number;
  /** Median and 99th percentile cursor delay seen by the probe clients in this sample window, ms. */
  delayP50Ms: number;
  delayP99Ms: number;
  /** Cursor updates delivered to all clients in this sample window, per second. */
  cursorUpdatesPerSec: number;
  /** 1-minute load average of the machine (shared with other jobs). */
  loadavg: number;
}

/** Backlog of a sample: bytes waiting in the server and in the kernel. */
export function backlogBytes(sample: Pick<Sample, 'serverBufferedBytes' | 'kernelQueuedBytes'>): number {
  return sample.serverBufferedBytes + sample.kernelQueuedBytes;
}

/** Arithmetic mean; NaN for an empty list. */
function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** How a quantity moved over the measured window: first third against last third. */
export interface Trend {
  first: number;
  last: number;
  /** last - first per second of window. */
  perSecond: number;
}

/** Mean of the first and last thirds of `values` (taken at times `ts`, seconds). */
export function trend(ts: readonly number[], values: readonly number[]): Trend {
  if (ts.length !== values.length) throw new RangeError('trend: times and values differ in length');
  if (values.length === 0) return { first: Number.NaN, last: Number.NaN, perSecond: Number.NaN };
  const third = Math.max(1, Math.floor(values.length / 3));
  const first = mean(values.slice(0, third));
  const last = mean(values.slice(-third));
  const span = mean(ts.slice(-third)) - mean(ts.slice(0, third));
  return { first, last, perSecond: span > 0 ? (last - first) / span : 0 };
}

/** Thresholds of "keeps up"; stated in the report next to the verdict. */
export const KEEPS_UP = {
  /** A backlog that ends below this is no backlog, whatever its trend (bytes). */
  backlogFloorBytes: 1 << 20,
  /** A backlog that ends more than this times where it began is growing. */
  backlogGrowth: 2,
  /** A median delay that ends more than this times where it began (and above the floor) is growing. */
  delayGrowth: 2,
  delayFloorMs: 250,
  /**
   * RSS growing by more than this from the first to the last third is a growing
   * backlog too: frames a server queues in its own memory (before its sockets)
   * show up only there.
   */
  rssGrowthBytes: 32 << 20,
} as const;

/**
 * Whether a server kept up in the measured samples: its backlog did not grow
 * (ends under 1 MiB, or under twice where it began), nor its RSS (by 32 MiB),
 * and its delay did not grow (median ends under 250 ms or under twice where it began).
 */
export function keepsUp(samples: readonly Sample[]): {
  keepsUp: boolean;
  backlog: Trend;
  delay: Trend;
  rss: Trend;
} {
  const measured = samples.filter((sample) => sample.t >= 0);
  const ts = measured.map((sample) => sample.t);
  const backlog = trend(ts, measured.map(backlogBytes));
  const delay = trend(
    ts,
    measured.map((sample) => sample.delayP50Ms),
  );
  const rss = trend(
    ts,
    measured.map((sample) => sample.serverRssBytes),
  );
  const rssOk = !(rss.last - rss.first > KEEPS_UP.rssGrowthBytes);
  const backlogOk =
    backlog.last < KEEPS_UP.backlogFloorBytes || backlog.last <= backlog.first * KEEPS_UP.backlogGrowth;
  const delayOk =
    Number.isFinite(delay.last) &&
    (delay.last < KEEPS_UP.delayFloorMs || delay.last <= delay.first * KEEPS_UP.delayGrowth);
  return { keepsUp: backlogOk && delayOk && rssOk, backlog, delay, rss };
}
