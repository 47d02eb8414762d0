/**
 * Failover figures of the cluster failure tests (issue 14): how long a room
 * was not writable after a failure, and how many acked writes were lost (the
 * contract says 0). Every run keeps them in memory; long mode
 * (CANVAS_TEST_LONG=1, `npm run test:long`) writes them to
 * test/cluster/last-failover.json for docs/cluster.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True under `npm run test:long`. */
export const LONG = process.env.CANVAS_TEST_LONG === '1';

/** One failure and what it cost. */
export interface FailoverFigure {
  /** Which failure (for example `owner SIGKILL`). */
  scenario: string;
  /** From the failure until the first write acked afterwards. */
  timeToWritableMs: number;
  /** Acked writes missing from the room afterwards. */
  ackedWritesLost: number;
  /** Lease of the nodes, to read the time against (K4: within two lease periods). */
  leaseMs: number;
}

/** Where long mode writes the figures (one file, every scenario's latest run). */
const FIGURES_FILE = fileURLToPath(new URL('../cluster/last-failover.json', import.meta.url));

const figures: FailoverFigure[] = [];

/** Keeps a figure for {@link writeFigures}. */
export function recordFailover(figure: FailoverFigure): void {
  figures.push(figure);
}

/** Summary of the figures of `scenario`: runs, median and max time to writable, lost writes. */
export function summarize(list: readonly FailoverFigure[]): {
  runs: number;
  medianMs: number;
  maxMs: number;
  lost: number;
} {
  const times = list.map((figure) => figure.timeToWritableMs).sort((a, b) => a - b);
  return {
    runs: list.length,
    medianMs: times[Math.floor(times.length / 2)] ?? 0,
    maxMs: times.at(-1) ?? 0,
    lost: list.reduce((sum, figure) => sum + figure.ackedWritesLost, 0),
  };
}

/**
 * In long mode, replaces this file's scenarios in {@link FIGURES_FILE} by the
 * figures recorded in this process (other scenarios' latest figures stay).
 */
export function writeFigures(): void {
  if (!LONG || figures.length === 0) return;
  const previous: FailoverFigure[] = existsSync(FIGURES_FILE)
    ? (JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as { figures: FailoverFigure[] }).figures
    : [];
  const mine = new Set(figures.map((figure) => figure.scenario));
  const merged = [...previous.filter((figure) => !mine.has(figure.scenario)), ...figures];
  const scenarios = [...new Set(merged.map((figure) => figure.scenario))].map((scenario) => ({
    scenario,
    ...summarize(merged.filter((figure) => figure.scenario === scenario)),
  }));
  writeFileSync(
    FIGURES_FILE,
    `${JSON.stringify({ when: new Date().toISOString(), scenarios, figures: merged }, null, 2)}\n`,
  );
}
