import type { Camera } from './camera.js';
import { setAttrs, svg } from './dom.js';
import { createShapeElement, shapeSignature, updateShapeElement } from './shape-element.js';
import type { Shape } from './shape-model.js';

/** Side of the square resize handle, screen px. */
const HANDLE_SIZE = 10;
/** Gap between a selected shape and its outline, screen px. */
const OUTLINE_GAP = 4;
/** Spacing of the background dots at 100 %, px. */
const GRID = 24;

interface Rendered {
  element: SVGGElement;
  signature: string;
}

/**
 * The drawing surface: a full-window `<svg data-testid="board">`. Shapes are
 * drawn in board units inside one group that the {@link Camera} transforms,
 * so panning and zooming move one attribute, not every shape. At the start
 * (origin 0, 0, zoom 1) a pointer at `clientX, clientY` is at board point
 * `x, y`. It renders shapes (only those that changed) and the selection
 * outline, whose handle keeps its screen size at any zoom.
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
    rx: 2,
  });
  private readonly selectionLayer = svg('g', { class: 'selection-layer' }, this.outline, this.handle);
  private readonly content = svg('g', { class: 'content' }, this.shapeLayer, this.selectionLayer);
  private readonly rendered = new Map<string, Rendered>();

  constructor(private readonly camera: Camera) {
    this.element = svg(
      'svg',
      { class: 'board', 'data-testid': 'board', role: 'application', 'aria-label': 'Whiteboard' },
      this.content,
    );
    this.applyCamera();
  }

  /** Moves the content and the background dots to the camera's view. */
  applyCamera(): void {
    const { x, y, zoom } = this.camera;
    this.content.setAttribute('transform', `matrix(${zoom} 0 0 ${zoom} ${-x * zoom} ${-y * zoom})`);
    const step = GRID * zoom;
    this.element.style.backgroundSize = `${step}px ${step}px`;
    this.element.style.backgroundPosition = `${-x * zoom}px ${-y * zoom}px`;
    this.element.dataset.zoom = String(zoom);
  }

  /**
   * Draws `shapes` (bottom to top) and the outline of `selected`; the shape
   * `hiddenId` (being edited in place) is left out.
   */
  render(shapes: readonly Shape[], selected: Shape | undefined, hiddenId: string | null = null): void {
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
      entry.element.style.visibility = shape.id === hiddenId ? 'hidden' : '';
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
    // Board units per screen pixel: the outline and handle keep their screen size.
    const unit = 1 / this.camera.zoom;
    const gap = OUTLINE_GAP * unit;
    const size = HANDLE_SIZE * unit;
    setAttrs(this.outline, {
      x: shape.x - gap,
      y: shape.y - gap,
      width: shape.w + 2 * gap,
      height: shape.h + 2 * gap,
    });
    setAttrs(this.handle, {
      x: shape.x + shape.w + gap - size / 2,
      y: shape.y + shape.h + gap - size / 2,
      width: size,
      height: size,
    });
  }
}
