/** Colours offered for shapes, in toolbar order. */
export const SHAPE_COLORS = ['#1e1e1e', '#e03131', '#f08c00', '#2f9e44', '#1971c2', '#9c36b5'] as const;

/** Colours handed out to users for their cursor and name. */
export const USER_COLORS = [
  '#e03131',
  '#e8590c',
  '#f59f00',
  '#2f9e44',
  '#0c8599',
  '#1c7ed6',
  '#7048e8',
  '#c2255c',
] as const;

/** The `data-testid` suffix of a colour swatch: the hex digits without `#`. */
export function colorTestId(color: string): string {
  return `color-${color.replace(/^#/, '').toLowerCase()}`;
}
