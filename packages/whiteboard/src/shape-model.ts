/**
 * The whiteboard's document model: one key per shape, `<shapeId>/Shape`,
 * holding `{ kind, x, y, w, h, color, points?, text?, z? }`.
 *
 * `x, y, w, h` is the shape's box on the board. A stroke's `points` are flat
 * `x, y` pairs in the coordinates they were drawn in; they are never rewritten
 * after drawing. Moving or resizing a stroke only changes its box, and the
 * points are mapped from their own bounds onto it when rendered. A text's
 * font size follows its box height (see `textFontSize`).
 */

/** What a shape is. */
type ShapeKind = 'rect' | 'stroke' | 'text';

/** A shape as the page uses it (parsed and validated from the document). */
export interface Shape {
  id: string;
  kind: ShapeKind;
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
  /** Flat x, y pairs (strokes only). */
  points?: readonly number[];
  /** The text, lines separated by `\n` (texts only). */
  text?: string;
  /** Stacking order; higher is on top. */
  z: number;
}

/** Document fields as the client exposes them. */
export type Fields = Readonly<Record<string, unknown>>;

/** Axis-aligned bounds. */
interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const SUFFIX = '/Shape';

/** The document key of a shape. */
export function shapeKey(id: string): string {
  return `${id}${SUFFIX}`;
}

/** The shape id of a document key, or undefined when the key is not a shape. */
function shapeIdOf(key: string): string | undefined {
  return key.endsWith(SUFFIX) && key.length > SUFFIX.length ? key.slice(0, -SUFFIX.length) : undefined;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A numeric array field (a plain array or a typed array), or undefined. */
function toNumbers(value: unknown): number[] | undefined {
  if (Array.isArray(value)) return value.every(isFiniteNumber) ? value : undefined;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>);
  }
  return undefined;
}

/** Parses a shape's fields; undefined when they do not describe a drawable shape. */
export function parseShape(id: string, fields: Fields): Shape | undefined {
  const { kind, x, y, w, h, color, z } = fields;
  if (kind !== 'rect' && kind !== 'stroke' && kind !== 'text') return undefined;
  if (!isFiniteNumber(x) || !isFiniteNumber(y) || !isFiniteNumber(w) || !isFiniteNumber(h)) return undefined;
  const shape: Shape = {
    id,
    kind,
    x,
    y,
    w,
    h,
    color: typeof color === 'string' ? color : '#1e1e1e',
    z: isFiniteNumber(z) ? z : 0,
  };
  if (kind === 'stroke') {
    const points = toNumbers(fields.points);
    if (!points || points.length < 2) return undefined;
    shape.points = points;
  }
  if (kind === 'text') {
    if (typeof fields.text !== 'string') return undefined;
    shape.text = fields.text;
  }
  return shape;
}

/** Every valid shape of a document, bottom to top. */
export function readShapes(document: ReadonlyMap<string, Fields>): Shape[] {
  const shapes: Shape[] = [];
  for (const [key, fields] of document) {
    const id = shapeIdOf(key);
    const shape = id === undefined ? undefined : parseShape(id, fields);
    if (shape) shapes.push(shape);
  }
  return sortShapes(shapes);
}

/** Sorts shapes bottom to top (by `z`, then id so every client agrees). */
export function sortShapes(shapes: Shape[]): Shape[] {
  return shapes.sort((a, b) => a.z - b.z || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The `z` for a new shape: above everything there is. */
export function nextZ(shapes: readonly Shape[]): number {
  let top = 0;
  for (const shape of shapes) top = Math.max(top, shape.z);
  return top + 1;
}

/** The bounds of flat x, y pairs. */
export function pointBounds(points: readonly number[]): Bounds {
  const bounds: Bounds = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i] as number;
    const y = points[i + 1] as number;
    if (x < bounds.minX) bounds.minX = x;
    if (x > bounds.maxX) bounds.maxX = x;
    if (y < bounds.minY) bounds.minY = y;
    if (y > bounds.maxY) bounds.maxY = y;
  }
  return bounds;
}

/** The document fields of a shape, except `points` (written with `setArray`). */
export function shapeFields(shape: Shape): Record<string, string | number> {
  const { kind, x, y, w, h, color, z, text } = shape;
  return text === undefined ? { kind, x, y, w, h, color, z } : { kind, x, y, w, h, color, z, text };
}

/** Every document field of a shape, `points` included: what re-creating it writes. */
export function allShapeFields(shape: Shape): Record<string, unknown> {
  return shape.points ? { ...shapeFields(shape), points: [...shape.points] } : shapeFields(shape);
}
