/**
 * Seeded schedules for the un-steered convergence suite: what each peer of a
 * room does and when, with no regard for what any client handles well. A
 * schedule is data, so the same one runs against every server and client.
 *
 * Operations are an app's intents, resolved against the peer's own view when
 * they run, as a user acting on what they see would: `touch` creates the
 * component whole when the peer does not see it and otherwise writes some of
 * its fields; `remove` deletes what the peer sees; `append` extends an array.
 */
import { seededRandom } from '../../helpers/seeded-random.js';

/** What the schedules of a category exercise. */
export const CATEGORIES = [
  'plain',
  'deletions',
  'offline',
  'offline+deletions',
  'restarts',
  'restarts+deletions',
  'racing arrays',
] as const;
type Category = (typeof CATEGORIES)[number];

/** One step of a schedule. `gapMs` is how long the app loop runs (pulling) after it. */
type Operation =
  | { op: 'touch'; peer: number; key: string; fields: Record<string, unknown>; gapMs: number }
  | { op: 'remove'; peer: number; key: string; gapMs: number }
  | { op: 'append'; peer: number; key: string; values: number[]; gapMs: number }
  | { op: 'offline'; peer: number; gapMs: number }
  | { op: 'online'; peer: number; gapMs: number }
  | { op: 'restart'; gapMs: number };

/** A named, replayable schedule. */
export interface Schedule {
  category: Category;
  seed: number;
  peers: number;
  operations: Operation[];
}

/** Shared shapes: racing last-writer-wins writes, and the keys deleted and re-created. */
const SHAPES = ['shape-0/Shape', 'shape-1/Shape', 'shape-2/Shape'];
/** Shared strokes: arrays that several peers extend at once. */
const STROKES = ['stroke-0/Stroke', 'stroke-1/Stroke'];

/** Every field of a component of `key`'s kind, as an app creates it. */
export function wholeComponent(key: string, seedValue: number): Record<string, unknown> {
  if (key.endsWith('/Stroke')) return { points: [], width: 1 + (seedValue % 9) };
  return { x: seedValue % 1000, y: (seedValue * 7) % 1000, color: `c${seedValue}` };
}

/** Options of {@link generateSchedule}. */
interface GenerateOptions {
  peers: number;
  /** Editing operations (offline periods and restarts come on top). */
  edits: number;
}

/**
 * The schedule of `category` for `seed`: `edits` edits by random peers with
 * gaps of 0-40 ms (0 makes writes race), plus the category's deletions,
 * offline periods (the peer keeps editing while away) and server restarts.
 */
export function generateSchedule(category: Category, seed: number, options: GenerateOptions): Schedule {
  const random = seededRandom(seed);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const deletions = category.includes('deletions');
  const offline = category.startsWith('offline');
  const restarts = category.startsWith('restarts');
  const arrays = category === 'racing arrays';
  const gap = () => (random() < 0.4 ? 0 : between(1, 40));

  const operations: Operation[] = [];
  const away = new Set<number>();
  const restartAt = new Set<number>(
    restarts
      ? [
          between(2, Math.floor(options.edits / 2)),
          between(Math.floor(options.edits / 2) + 1, options.edits - 2),
        ]
      : [],
  );
  let value = seed % 997;
  for (let i = 0; i < options.edits; i++) {
    if (restartAt.has(i)) operations.push({ op: 'restart', gapMs: between(0, 30) });
    if (offline && random() < 0.15) {
      const peer = between(0, options.peers - 1);
      if (away.has(peer)) {
        away.delete(peer);
        operations.push({ op: 'online', peer, gapMs: gap() });
      } else if (away.size < options.peers - 1) {
        away.add(peer);
        operations.push({ op: 'offline', peer, gapMs: gap() });
      }
    }
    const peer = between(0, options.peers - 1);
    value++;
    const roll = random();
    if (arrays && roll < 0.6) {
      const values = Array.from({ length: between(1, 4) }, () => between(0, 99));
      operations.push({ op: 'append', peer, key: pick(STROKES), values, gapMs: gap() });
    } else if (arrays && roll < 0.75) {
      operations.push({ op: 'touch', peer, key: pick(STROKES), fields: { width: value % 9 }, gapMs: gap() });
    } else if (deletions && roll < 0.3) {
      operations.push({ op: 'remove', peer, key: pick(SHAPES), gapMs: gap() });
    } else {
      const fields: Record<string, unknown> = {};
      if (random() < 0.6) fields.x = value % 1000;
      if (random() < 0.5) fields.y = (value * 3) % 1000;
      if (random() < 0.4 || Object.keys(fields).length === 0) fields.color = `c${value}`;
      operations.push({ op: 'touch', peer, key: pick(SHAPES), fields, gapMs: gap() });
    }
  }
  for (const peer of away) operations.push({ op: 'online', peer, gapMs: 0 });
  return { category, seed, peers: options.peers, operations };
}

/** A schedule as one line per operation, for docs and failure messages. */
export function describeSchedule(schedule: Schedule): string {
  const lines = schedule.operations.map((step) => {
    const who = 'peer' in step ? `p${step.peer} ` : '';
    const what =
      step.op === 'touch'
        ? `touch ${step.key} ${JSON.stringify(step.fields)}`
        : step.op === 'remove'
          ? `remove ${step.key}`
          : step.op === 'append'
            ? `append ${step.key} ${JSON.stringify(step.values)}`
            : step.op;
    return `${who}${what} +${step.gapMs}ms`;
  });
  return [`${schedule.category} seed ${schedule.seed}, ${schedule.peers} peers:`, ...lines].join('\n');
}
