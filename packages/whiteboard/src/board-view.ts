import { setAttrs, svg } from './dom.js';
import { createShapeElement, shapeSignature, updateShapeElement } from './shape-element.js';
import type { Shape } from './shape-model.js';

/** Side of the square resize handle, px. */
const HANDLE_SIZE = 10;
/** Gap between a selected shape and its outline, px. */
const OUTLINE_GAP = 4;

interface Rendered {
  element: SVGGElement;
  signature: string;
}

/**
 * The drawing surface: a full-window `<svg data-testid="board">` whose user
 * units are CSS pixels from the top-left corner of the window, so a pointer
 * at `clientX, clientY` is at board point `x, y` (no pan or zoom).
 * It renders shapes (only those that changed) and the selection outline.
 */
export class BoardView {
  /** The `<svg>` element; pointer input is read from it. */
  readonly element: SVGSVGElement;
  private readonly shapeLayer = svg('g', { class: 'shape-layer' });
  private readonly outline = svg('rect', { class: 'selection-outline', 'pointer-events': 'none' });
  private readonly handle = svg('rect', {
    class: 'resize-handle',
    'data-testid': 'resize-handle',
    'data-handle': 'resize',
    width: HANDLE_SIZE,
    height: HANDLE_SIZE,
    rx: 2,
  });
  private readonly selectionLayer = svg('g', { class: 'selection-layer' }, this.outline, this.handle);
  private readonly rendered = new Map<string, Rendered>();

  constructor() {
    this.element = svg(
      'svg',
      { class: 'board', 'data-testid': 'board', role: 'application', 'aria-label': 'Whiteboard' },
      this.shapeLayer,
      this.selectionLayer,
    );
  }

  /** Draws `shapes` (bottom to top) and the outline of `selected`. */
  render(shapes: readonly Shape[], selected: Shape | undefined): void {
    const seen = new Set<string>();
    let ordered = true;
    let previous: Element | null = null;
    for (const shape of shapes) {
      seen.add(shape.id);
      const signature = shapeSignature(shape);
      let entry = this.rendered.get(shape.id);
      if (!entry) {
        entry = { element: createShapeElement(shape), signature };
        this.rendered.set(shape.id, entry);
        ordered = false;
      } else if (entry.signature !== signature) {
        updateShapeElement(entry.element, shape);
        entry.signature = signature;
      }
      if (ordered && entry.element.previousElementSibling !== previous) ordered = false;
      previous = entry.element;
    }
    for (const [id, entry] of this.rendered) {
      if (seen.has(id)) continue;
      entry.element.remove();
      this.rendered.delete(id);
    }
    if (!ordered) {
      this.shapeLayer.append(...shapes.map((shape) => (this.rendered.get(shape.id) as Rendered).element));
    }
    this.renderSelection(selected);
  }

  private renderSelection(shape: Shape | undefined): void {
    this.selectionLayer.style.display = shape ? '' : 'none';
    if (!shape) return;
    setAttrs(this.outline, {
      x: shape.x - OUTLINE_GAP,
      y: shape.y - OUTLINE_GAP,
      width: shape.w + 2 * OUTLINE_GAP,
      height: shape.h + 2 * OUTLINE_GAP,
    });
    setAttrs(this.handle, {
      x: shape.x + shape.w + OUTLINE_GAP - HANDLE_SIZE / 2,
      y: shape.y + shape.h + OUTLINE_GAP - HANDLE_SIZE / 2,
    });
  }
}
