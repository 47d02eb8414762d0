/** The targets of the storage benchmark, as PASS/FAIL lines (never asserted). */
import { BACKENDS } from './compared.js';
import { best, loadCell, type RenderInput } from './markdown.js';
import { formatInt, formatMs, formatPercent } from './report.js';

/** The target lines of the report. */
export function targetLines(input: RenderInput): string[] {
  const out: string[] = [];
  const memory = best(input.throughput.get('memory')).writesPerSec;
  const sqlite = best(input.throughput.get('sqlite')).writesPerSec;
  if (memory.ok && sqlite.ok) {
    const ratio = sqlite.value / memory.value;
    out.push(
      `- ${ratio >= 0.5 ? 'PASS' : 'FAIL'}: SqliteStorage sustained acked writes/s >= 50% of MemoryStorage's ` +
        `(${formatInt(sqlite.value)} vs ${formatInt(memory.value)}: ${formatPercent(ratio)})`,
    );
  } else {
    out.push("- n/a: SqliteStorage acked writes/s >= 50% of MemoryStorage's (a measurement is missing)");
  }
  const baseline = input.largeRoom.get('none');
  const floor =
    typeof baseline === 'object'
      ? `; no-storage floor ${formatMs(baseline.stallMaxMs)} ms (${formatMs(baseline.ownStallMs)} ms w/o CPU wait)`
      : '';
  for (const backend of BACKENDS.filter((b) => b.ours && b.durable)) {
    const result = input.largeRoom.get(backend.id);
    const what = `no persistence stall over 20 ms at 100,000 components, ${backend.label}`;
    if (typeof result !== 'object') {
      out.push(`- n/a: ${what}: ${result ?? 'not run'}`);
      continue;
    }
    const facts =
      `max ${formatMs(result.stallMaxMs)} ms, ${formatMs(result.ownStallMs)} ms without CPU wait, ` +
      `${result.saves} snapshot save${result.saves === 1 ? '' : 's'} in the window`;
    if (result.stallMaxMs <= 20) {
      out.push(`- PASS: ${what}: ${facts}${floor}`);
    } else if (result.ownStallMs <= 20) {
      out.push(
        `- PASS (scheduler noise excluded): ${what}: ${facts}; the longest gap ` +
          `(${formatMs(result.sampledMaxGapMs)} ms) was ${formatMs(result.waitOfMaxGapMs)} ms waiting for a CPU and ` +
          `${formatMs(result.runOfMaxGapMs)} ms of our main thread running${floor}`,
      );
    } else {
      out.push(`- FAIL: ${what}: ${facts}${floor}`);
    }
  }
  for (const backend of BACKENDS) {
    const load = loadCell(backend.id, input.largeRoom.get(backend.id));
    const verdict = load.ok ? (load.value < 1000 ? 'PASS' : 'FAIL') : 'n/a';
    const tag = backend.ours ? verdict : `${verdict} (baseline, for reference)`;
    out.push(
      `- ${tag}: 100,000-component room loads in under 1 s, ${backend.label}: ` +
        (load.ok ? `${formatMs(load.value)} ms (median)` : load.reason),
    );
  }
  return out;
}
