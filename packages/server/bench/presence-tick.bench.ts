/**
 * Presence tick fan-out micro-benchmark (issue 15): the cost of sending one
 * coalesced tick to 250, 500 and 1,000 recipients of which 10% moved their
 * cursor, before and after the shared-frame fan-out, in the same process,
 * alternating run by run. Run with `npm run bench:presence-tick`.
 *
 * Timed per tick: assembling every recipient's frame and encoding it to
 * UTF-8 through the server's {@link FrameEncoder} (one per server, which
 * remembers the last text it encoded), as `ServerSocket.send` does. Not
 * timed: the WebSocket framing and socket writes, the same for both and
 * proportional to the bytes sent (see docs/big-rooms.md for a whole-process
 * profile). Prints a markdown report and writes it to
 * `bench/results/presence-tick.md`. A report: nothing fails on slow numbers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { type Fragment, fanOut, recipientFrame } from '../src/room/presence-fan-out.js';
import { FrameEncoder } from '../src/server/transport/frame-encoder.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import { median, sampleInterleaved } from './lib/measure.js';
import { formatMs, formatNumber, formatRatio, markdownTable } from './lib/table.js';

const SIZES = [250, 500, 1000];
const MOVER_SHARE = 0.1;
const OPTIONS = { warmup: 20, minReps: 40, maxReps: 400, budgetMs: 2_000 };

interface Recipient {
  readonly clientId: string;
}

type Deliver = (recipient: Recipient, text: string) => void;

/**
 * The fan-out before this change (kept here as the baseline): the shared
 * frame for most recipients, and for each author a frame assembled again from
 * every fragment, in session order, so the encoder's one-frame memory is lost
 * after every author and the shared frame encoded again.
 */
function perRecipientFanOut(
  fragments: readonly Fragment<Recipient>[],
  recipients: readonly Recipient[],
  newcomers: ReadonlyMap<Recipient, number>,
  deliver: Deliver,
): void {
  const shared = recipientFrame(fragments, null, -1);
  if (!shared) return;
  const authors = new Set<Recipient | 'many' | null>();
  for (const fragment of fragments) authors.add(fragment.author);
  for (const recipient of recipients) {
    const joinedAt = newcomers.get(recipient);
    const text =
      authors.has(recipient) || joinedAt !== undefined
        ? recipientFrame(fragments, recipient, joinedAt ?? -1)
        : shared;
    if (text) deliver(recipient, text);
  }
}

/** One tick's fragments: each mover's cursor, as the load generator of `bench:bigroom` sends it. */
function tickFragments(movers: readonly Recipient[], tick: number): Fragment<Recipient>[] {
  return movers.map((mover, index) => {
    const key = JSON.stringify(`${mover.clientId}/Cursor`);
    const x = (tick * 7 + index) % 2000;
    const y = (tick * 3 + index) % 1200;
    const sentUs = 1_733_000_000_000 + tick * 50_000 + index;
    return {
      author: mover,
      seq: index + 1,
      first: `${key}:{"x":${x},"y":${y},"sentUs":${sentUs}}`,
      second: null,
    };
  });
}

interface SizeResult {
  recipients: number;
  movers: number;
  frameChars: number;
  before: number;
  after: number;
  encodesBefore: number;
  encodesAfter: number;
}

function measureSize(size: number): SizeResult {
  const random = seededRandom(size);
  const recipients = Array.from({ length: size }, (_, i) => ({ clientId: `client-${i}` }));
  // Movers spread over the room in random places, as the sessions of a real room.
  const shuffled = recipients.map((recipient) => ({ recipient, order: random() }));
  shuffled.sort((a, b) => a.order - b.order);
  const chosen = new Set(shuffled.slice(0, Math.round(size * MOVER_SHARE)).map((entry) => entry.recipient));
  const movers = recipients.filter((recipient) => chosen.has(recipient));
  const newcomers = new Map<Recipient, number>();
  const encoder = new FrameEncoder();
  let encodes = 0;
  let lastBytes: Buffer | null = null;
  let sink = 0;
  const deliver: Deliver = (_recipient, text) => {
    const frame = encoder.encode(text);
    if (frame.bytes !== lastBytes) encodes++;
    lastBytes = frame.bytes;
    sink += frame.bytes.length;
  };
  // Both send every recipient the same frames (the test suite checks it on random ticks; here once more).
  const check = tickFragments(movers, 0);
  const seen = [new Map<Recipient, string>(), new Map<Recipient, string>()];
  perRecipientFanOut(check, recipients, newcomers, (r, text) => seen[0]?.set(r, text));
  fanOut(check, recipients, newcomers, (r, text) => seen[1]?.set(r, text));
  for (const r of recipients) {
    if (seen[0]?.get(r) !== seen[1]?.get(r)) throw new Error(`fan-outs differ for ${r.clientId}`);
  }
  let tick = 0;
  const encodeCounts: [number[], number[]] = [[], []];
  const run = (which: 0 | 1) => (): number => {
    const fragments = tickFragments(movers, ++tick);
    encodes = 0;
    const start = performance.now();
    if (which === 0) perRecipientFanOut(fragments, recipients, newcomers, deliver);
    else fanOut(fragments, recipients, newcomers, deliver);
    const duration = performance.now() - start;
    encodeCounts[which].push(encodes);
    return duration;
  };
  const [before, after] = sampleInterleaved([run(0), run(1)], OPTIONS);
  if (sink < 0) throw new Error('unreachable');
  return {
    recipients: size,
    movers: movers.length,
    frameChars: recipientFrame(check, null, -1)?.length ?? 0,
    before: before?.median ?? Number.NaN,
    after: after?.median ?? Number.NaN,
    encodesBefore: median(encodeCounts[0]),
    encodesAfter: median(encodeCounts[1]),
  };
}

function main(): Promise<void> {
  const results = SIZES.map(measureSize);
  const table = markdownTable(
    [
      'recipients',
      'movers',
      'frame (chars)',
      'encodings per tick, before → after',
      'before: ms per tick',
      'after: ms per tick',
      'before ÷ after',
    ],
    results.map((r) => [
      formatNumber(r.recipients),
      formatNumber(r.movers),
      formatNumber(r.frameChars),
      `${formatNumber(r.encodesBefore)} → ${formatNumber(r.encodesAfter)}`,
      formatMs(r.before),
      formatMs(r.after),
      formatRatio(r.before / r.after),
    ]),
    ['right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const report = [
    '# Presence tick fan-out',
    '',
    `Run: ${new Date().toISOString().slice(0, 10)}, \`npm run bench:presence-tick\`, load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores; medians of runs alternating before/after.`,
    '',
    table,
    '',
  ].join('\n');
  process.stdout.write(`${report}\n`);
  const dir = new URL('./results/', import.meta.url);
  return mkdir(dir, { recursive: true }).then(() => writeFile(new URL('presence-tick.md', dir), report));
}

await main();
