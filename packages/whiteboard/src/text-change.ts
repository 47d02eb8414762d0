import { randomId } from './random-id.js';
import type { ShapeChange } from './shape-change.js';
import { nextZ, type Shape } from './shape-model.js';
import type { TextEditTarget } from './text-editor.js';
import { DEFAULT_TEXT_SIZE, measureText, textFontSize } from './text-layout.js';
import type { BoardPoint } from './tools/tool.js';

/**
 * What the text editor opens on: an existing text shape (its place, size,
 * colour and text), or a new text at `at` in the palette's colour.
 */
export function textEditTarget(shape: Shape | null, at: BoardPoint, color: string): TextEditTarget {
  if (shape) {
    const fontSize = textFontSize(shape.text ?? '', shape.h);
    return {
      at: { x: shape.x, y: shape.y },
      fontSize,
      color: shape.color,
      text: shape.text ?? '',
      shapeId: shape.id,
    };
  }
  const origin = { x: Math.round(at.x), y: Math.round(at.y) };
  return { at: origin, fontSize: DEFAULT_TEXT_SIZE, color, text: '', shapeId: null };
}

/**
 * The change a finished text edit makes, or null for none: a new text is
 * created (unless left empty); an existing one gets the new text and the box
 * it now takes, or is deleted when emptied. `shapes` are the board's shapes,
 * for stacking a new text on top.
 */
export function textEditChange(
  shape: Shape | null,
  target: TextEditTarget,
  text: string,
  shapes: readonly Shape[],
): ShapeChange | null {
  const empty = text.trim() === '';
  if (shape) {
    if (empty) return { id: shape.id, before: shape, after: null };
    if (text === shape.text) return null;
    return { id: shape.id, before: shape, after: { ...shape, text, ...measureText(text, target.fontSize) } };
  }
  if (empty) return null;
  const id = randomId();
  const created: Shape = {
    id,
    kind: 'text',
    ...target.at,
    ...measureText(text, target.fontSize),
    color: target.color,
    text,
    z: nextZ(shapes),
  };
  return { id, before: null, after: created };
}
