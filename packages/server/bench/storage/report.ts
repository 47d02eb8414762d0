/** Markdown rendering for the storage benchmark. */

type Align = 'left' | 'right';

/** A value, or why it could not be measured. */
export type Cell = { ok: true; value: number } | { ok: false; reason: string };

export function ok(value: number): Cell {
  return { ok: true, value };
}

export function na(reason: string): Cell {
  return { ok: false, reason };
}

export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string {
  const widths = headers.map((header, col) =>
    Math.max(3, header.length, ...rows.map((row) => (row[col] ?? '').length)),
  );
  const pad = (text: string, col: number): string =>
    align[col] === 'right' ? text.padStart(widths[col] as number) : text.padEnd(widths[col] as number);
  const line = (cells: readonly string[]): string =>
    `| ${headers.map((_, col) => pad(cells[col] ?? '', col)).join(' | ')} |`;
  const rule = `| ${widths.map((w, col) => (align[col] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function formatInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

export function cell(value: Cell, format: (value: number) => string): string {
  return value.ok ? format(value.value) : `n/a (${value.reason})`;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
