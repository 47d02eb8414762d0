/** Markdown and number formatting of the server benchmark and the report. */

// One markdown table renderer for every benchmark report.
export { type Align, markdownTable as table } from '../lib/table.js';

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
