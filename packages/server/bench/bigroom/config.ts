/**
 * Command-line configuration of the big-room benchmark (`npm run bench:bigroom`).
 * Pure: parsing and defaults only, so the test can check it without running anything.
 */
import { parseArgs } from 'node:util';

/** Which server a run measures. */
export type VariantId = 'ours-coalesced' | 'ours-uncoalesced' | 'published';

/** Every variant, in the order they run within a scenario. */
const VARIANT_IDS: readonly VariantId[] = ['ours-coalesced', 'ours-uncoalesced', 'published'];

/** What one run of the benchmark does. */
export interface BigRoomConfig {
  /** Room sizes (connected clients), one scenario each. */
  sizes: number[];
  /** Share of the clients that move their cursor. */
  moverShare: number;
  /** Cursor moves per second per mover. */
  cursorHz: number;
  /** Share of the clients that write shapes (document patches). */
  writerShare: number;
  /** Shape writes per second per writer. */
  writeHz: number;
  /** All clients join within this window (the join storm), ms. */
  joinStormMs: number;
  /** Load before the measured window, ms. */
  warmupMs: number;
  /** Measured window, ms. */
  measureMs: number;
  /** Interval between backlog/CPU samples, ms. */
  sampleMs: number;
  /** Load-generator processes sharing the clients. */
  workers: number;
  /** Variants to run (all three by default). */
  variants: VariantId[];
  /** Write results/big-rooms-bench.svg and the docs/performance.md section. */
  writeDocs: boolean;
  /** Quick smoke mode (smaller sizes, shorter windows). */
  quick: boolean;
}

const FULL: BigRoomConfig = {
  sizes: [250, 500, 1000],
  moverShare: 0.1,
  cursorHz: 20,
  writerShare: 0.01,
  writeHz: 2,
  joinStormMs: 10_000,
  warmupMs: 5_000,
  measureMs: 30_000,
  sampleMs: 1_000,
  workers: 2,
  variants: [...VARIANT_IDS],
  writeDocs: true,
  quick: false,
};

const QUICK: Partial<BigRoomConfig> = {
  sizes: [100, 250],
  joinStormMs: 4_000,
  warmupMs: 2_000,
  measureMs: 8_000,
  sampleMs: 1_000,
  writeDocs: false,
};

/** Usage text printed for `--help` and on a bad flag. */
export const USAGE = `Usage: npm run bench:bigroom -- [options]
  --quick                 smoke run (~2 min): sizes 100,250, short windows, docs untouched
  --sizes <n,n,...>       room sizes (default 250,500,1000)
  --join-storm-ms <ms>    all clients join within this window (default 10000)
  --warmup-ms <ms>        load before measuring (default 5000)
  --measure-ms <ms>       measured window (default 30000)
  --sample-ms <ms>        backlog/CPU sample interval (default 1000)
  --workers <n>           load-generator processes (default 2)
  --variants <a,b,...>    ours-coalesced, ours-uncoalesced, published (default all)
  --cursor-hz <n>         cursor moves per second per mover (default 20)
  --write-hz <n>          shape writes per second per writer (default 2)
  --docs / --no-docs      write the chart and the docs/performance.md section (default: on unless --quick)
  --from-results          measure nothing: render the outputs (docs included) from the last results/bigroom.json`;

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new RangeError(`${name} must be a positive integer, got '${text}'`);
  return value;
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got '${text}'`);
  return value;
}

function sizeList(text: string): number[] {
  const sizes = text.split(',').map((part) => positiveInt('--sizes', part.trim()));
  for (const size of sizes) {
    if (size < 2 || size > 10_000) throw new RangeError(`--sizes: each size must be 2..10000, got ${size}`);
  }
  return sizes;
}

function variantList(text: string): VariantId[] {
  const variants = text.split(',').map((part) => part.trim());
  for (const variant of variants) {
    if (!(VARIANT_IDS as readonly string[]).includes(variant)) {
      throw new RangeError(`--variants: unknown variant '${variant}' (known: ${VARIANT_IDS.join(', ')})`);
    }
  }
  return variants as VariantId[];
}

/** Parses the benchmark's flags (throws RangeError with a clear message on a bad one). */
export function parseConfig(args: readonly string[]): BigRoomConfig {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      'join-storm-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'measure-ms': { type: 'string' },
      'sample-ms': { type: 'string' },
      workers: { type: 'string' },
      variants: { type: 'string' },
      'cursor-hz': { type: 'string' },
      'write-hz': { type: 'string' },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean' },
    },
  });
  const config: BigRoomConfig = { ...FULL, variants: [...FULL.variants], ...(values.quick ? QUICK : {}) };
  config.quick = values.quick ?? false;
  if (values.sizes !== undefined) config.sizes = sizeList(values.sizes);
  if (values['join-storm-ms'] !== undefined) {
    config.joinStormMs = positiveInt('--join-storm-ms', values['join-storm-ms']);
  }
  if (values['warmup-ms'] !== undefined) config.warmupMs = positiveInt('--warmup-ms', values['warmup-ms']);
  if (values['measure-ms'] !== undefined)
    config.measureMs = positiveInt('--measure-ms', values['measure-ms']);
  if (values['sample-ms'] !== undefined) config.sampleMs = positiveInt('--sample-ms', values['sample-ms']);
  if (values.workers !== undefined) config.workers = positiveInt('--workers', values.workers);
  if (values.variants !== undefined) config.variants = variantList(values.variants);
  if (values['cursor-hz'] !== undefined) config.cursorHz = positiveNumber('--cursor-hz', values['cursor-hz']);
  if (values['write-hz'] !== undefined) config.writeHz = positiveNumber('--write-hz', values['write-hz']);
  if (values.docs && values['no-docs']) throw new RangeError('--docs and --no-docs contradict each other');
  if (values.docs) config.writeDocs = true;
  if (values['no-docs']) config.writeDocs = false;
  if (config.sampleMs > config.measureMs) throw new RangeError('--sample-ms must not exceed --measure-ms');
  return config;
}

/** How many clients of a room of `size` move cursors and write shapes (at least one each). */
export function roles(size: number, config: Pick<BigRoomConfig, 'moverShare' | 'writerShare'>) {
  return {
    movers: Math.max(1, Math.round(size * config.moverShare)),
    writers: Math.max(1, Math.round(size * config.writerShare)),
  };
}

/** Splits `total` clients over `workers` processes as evenly as possible (client indices per worker). */
export function shareClients(total: number, workers: number): Array<{ first: number; count: number }> {
  const shares: Array<{ first: number; count: number }> = [];
  let first = 0;
  for (let worker = 0; worker < workers; worker++) {
    const count = Math.floor(total / workers) + (worker < total % workers ? 1 : 0);
    shares.push({ first, count });
    first += count;
  }
  return shares.filter((share) => share.count > 0);
}

/** Whether client `index` of a room of `size` moves its cursor and/or writes shapes (spread evenly over the room). */
export function roleOf(
  index: number,
  size: number,
  counts: { movers: number; writers: number },
): { mover: boolean; writer: boolean } {
  // Movers end each of `movers` equal blocks of the room, writers start each of `writers`
  // blocks, so both are spread over every load-generator process and rarely coincide.
  const blockEnd = (n: number) => Math.floor(((index + 1) * n) / size) !== Math.floor((index * n) / size);
  const blockStart = (n: number) =>
    index === 0 || Math.floor((index * n) / size) !== Math.floor(((index - 1) * n) / size);
  return { mover: blockEnd(counts.movers), writer: blockStart(counts.writers) };
}
