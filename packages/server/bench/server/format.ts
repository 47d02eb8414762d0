/** Markdown and number formatting of the server benchmark and the report. */

/** Column alignment in a markdown table. */
export type Align = 'left' | 'right';

/** Renders a padded markdown table. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: Align[],
): string {
  const widths = headers.map((header, col) =>
    Math.max(3, header.length, ...rows.map((row) => (row[col] ?? '').length)),
  );
  const pad = (text: string, col: number): string => {
    const width = widths[col] ?? 3;
    return align?.[col] === 'right' ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]): string =>
    `| ${headers.map((_, col) => pad(cells[col] ?? '', col)).join(' | ')} |`;
  const rule = `| ${widths
    .map((width, col) => (align?.[col] === 'right' ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width)))
    .join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** An integer with thousands separators. */
export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A number with `digits` decimals and thousands separators. */
export function num(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Milliseconds with a precision that suits their magnitude (no unit). */
export function ms(value: number): string {
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

/** A ratio such as `2.31x`. */
export function ratio(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)}x`;
}

/** A percentage such as `37%`. */
export function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}
