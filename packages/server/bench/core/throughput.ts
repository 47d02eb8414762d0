/** Measurement 1 of the core benchmark: patch apply throughput. */
import { IMPLS, type Impl } from '../lib/impls.js';
import { forceGc, median, timeIt } from '../lib/measure.js';
import { formatNumber } from '../lib/table.js';
import { type PatchStream, patchStream } from '../lib/workload.js';
import { type ImplId, THROUGHPUT } from './config.js';
import { log, type Measurement, measured, notAvailable, type Row } from './measurement.js';
import { connectWriter, liveState, sameLiveState } from './sessions.js';

interface RoundResult {
  framesPerSecond: number;
  problem: string | null;
  state?: ReturnType<typeof liveState>;
}

function throughputRound(impl: Impl, stream: PatchStream, keepState: boolean): RoundResult {
  const handle = impl.create();
  const { room } = handle;
  const { writer, writerSocket } = connectWriter(room);
  for (const frame of stream.baseFrames) room.handleSocketMessage(writer, frame);
  const clockBefore = handle.clock();
  writerSocket.sent = 0;
  forceGc();
  const { frames } = stream;
  const elapsed = timeIt(() => {
    for (let i = 0; i < frames.length; i++) room.handleSocketMessage(writer, frames[i] as string);
  });
  let problem: string | null = null;
  if (writerSocket.closed) problem = 'the writer session was closed';
  else if (writerSocket.sent !== frames.length)
    problem = `writer got ${writerSocket.sent} frames for ${frames.length} writes`;
  else if (!writerSocket.last?.includes('"type":"ack"'))
    problem = `last frame to the writer was ${writerSocket.last}`;
  else if (handle.clock() !== clockBefore + frames.length) {
    problem = `clock moved by ${handle.clock() - clockBefore}, expected ${frames.length}`;
  }
  const state = keepState ? liveState(room) : undefined;
  handle.dispose();
  const result: RoundResult = { framesPerSecond: frames.length / (elapsed / 1000), problem };
  if (state) result.state = state;
  return result;
}

/**
 * Applies the patch stream to fresh rooms of both implementations, rounds
 * interleaved; appends its notes to `notes`.
 */
export function benchThroughput(notes: string[]): {
  row: Row;
  details: string[][];
  pairedRatio: number | null;
} {
  log(`[1/2] patch apply throughput: generating ${formatNumber(THROUGHPUT.frames)} frames...`);
  const stream = patchStream({
    baseComponents: THROUGHPUT.baseComponents,
    frames: THROUGHPUT.frames,
    seed: THROUGHPUT.seed,
  });
  const rates: Record<ImplId, number[]> = { ours: [], published: [] };
  const problems: Partial<Record<ImplId, string>> = {};
  const states: Partial<Record<ImplId, ReturnType<typeof liveState>>> = {};
  const totalRounds = THROUGHPUT.warmupRounds + THROUGHPUT.rounds;
  for (let round = 0; round < totalRounds; round++) {
    // Alternate the order so neither implementation always runs on a "fresh" heap.
    const order = round % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const impl of order) {
      const result = throughputRound(impl, stream, round === 0);
      if (result.state) states[impl.id] = result.state;
      if (result.problem) problems[impl.id] ??= result.problem;
      if (round >= THROUGHPUT.warmupRounds) rates[impl.id].push(result.framesPerSecond);
    }
    log(`  round ${round + 1}/${totalRounds}${round < THROUGHPUT.warmupRounds ? ' (warm-up)' : ''} done`);
  }
  const { mix } = stream;
  // Rounds are interleaved, so round i of both ran under similar machine load.
  const paired = rates.ours.map((rate, i) => rate / (rates.published[i] as number));
  const pairedRatio = paired.length > 0 && paired.every(Number.isFinite) ? median(paired) : null;
  notes.push(
    `Patch stream: ${formatNumber(THROUGHPUT.frames)} frames (${formatNumber(stream.bytes / THROUGHPUT.frames, 0)} bytes each on average; ` +
      `${formatNumber(mix.updates)} updates of 1-3 fields, ${formatNumber(mix.creates)} creations of 8-field shapes, ` +
      `${formatNumber(mix.deletes)} deletions; 1-3 keys per frame) applied by one readwrite session to a room pre-built ` +
      `with ${formatNumber(THROUGHPUT.baseComponents)} shapes, a second readwrite session receiving broadcasts into a no-op socket. ` +
      `A fresh room per round; ${THROUGHPUT.warmupRounds} warm-up + ${THROUGHPUT.rounds} measured rounds per implementation, ` +
      'interleaved; the median round is reported.',
  );
  const ours = states.ours;
  const published = states.published;
  if (ours && published) {
    const same = sameLiveState(ours.live, published.live);
    notes.push(
      `After the stream both servers hold ${same ? 'the same' : 'DIFFERENT'} live document ` +
        `(ours ${formatNumber(ours.live.size)} live components, published ${formatNumber(published.live.size)}). ` +
        `getSnapshot() lists ${formatNumber(ours.tombstones)} tombstones in ours and ${formatNumber(published.tombstones)} ` +
        'in the published server (SPEC D10: ours returns only the live document).',
    );
  }
  const results = {} as Record<ImplId, Measurement>;
  const details: string[][] = [];
  for (const impl of IMPLS) {
    const problem = problems[impl.id];
    const list = rates[impl.id];
    results[impl.id] = problem ? notAvailable(problem) : measured(median(list));
    details.push([
      'Patch apply throughput',
      impl.id,
      String(list.length),
      `${formatNumber(median(list))} frames/s`,
      `${formatNumber(Math.min(...list))} frames/s`,
      `${formatNumber(Math.max(...list))} frames/s`,
    ]);
  }
  return {
    row: {
      metric: `Patch apply throughput (frames/s, ${formatNumber(THROUGHPUT.frames)}-frame stream)`,
      better: 'higher',
      format: (value) => formatNumber(value),
      words: ['faster', 'slower'],
      results,
    },
    details,
    pairedRatio,
  };
}
