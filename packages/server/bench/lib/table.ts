/** Column alignment in a markdown table. */
export type Align = 'left' | 'right';

/** Renders a padded markdown table. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  const widths = headers.map((header, col) =>
    Math.max(3, header.length, ...rows.map((row) => (row[col] ?? '').length)),
  );
  const pad = (text: string, col: number): string => {
    const width = widths[col] as number;
    return align?.[col] === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]): string =>
    `| ${headers.map((_, col) => pad(cells[col] ?? '', col)).join(' | ')} |`;
  const rule = `| ${widths
    .map((width, col) => (align?.[col] === 'right' ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width)))
    .join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** Milliseconds with a precision that suits their magnitude. */
export function formatMs(ms: number): string {
  if (ms < 0.01) return `${ms.toFixed(4)} ms`;
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** A plain number with thousands separators and `digits` decimals. */
export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio with three significant digits (exponent notation when tiny). */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return String(ratio);
  if (ratio !== 0 && Math.abs(ratio) < 0.001) return ratio.toExponential(2);
  return ratio.toPrecision(3);
}
