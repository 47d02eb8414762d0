import { svg } from '../dom.js';
import { createShapeElement } from '../shape-element.js';
import { type Fields, readShapes, type Shape } from '../shape-model.js';
import type { StoredComponent } from './admin-api.js';

/** Board units kept around the shapes in the preview. */
const MARGIN = 24;
/** Smallest board area the preview shows, board units. */
const MIN_VIEW_WIDTH = 800;
const MIN_VIEW_HEIGHT = 260;

/** The shapes of stored components (tombstones and non-shape keys left out), bottom to top. */
export function shapesOf(components: readonly StoredComponent[]): Shape[] {
  const live = new Map<string, Fields>();
  for (const { key, data } of components) if (data._exists !== false) live.set(key, data);
  return readShapes(live);
}

/**
 * Draws `shapes` with the whiteboard's own shape elements into `target`, an
 * `<svg>` whose view box fits them: a still picture of the board, with no
 * camera or input.
 */
export function renderPreview(target: SVGSVGElement, shapes: readonly Shape[]): void {
  target.replaceChildren(...shapes.map((shape) => createShapeElement(shape)));
  target.dataset.shapes = String(shapes.length);
  if (shapes.length === 0) {
    target.setAttribute('viewBox', '0 0 800 500');
    target.append(
      svg(
        'text',
        { x: 400, y: 250, 'text-anchor': 'middle', class: 'preview-empty' },
        document.createTextNode('empty board'),
      ),
    );
    return;
  }
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const shape of shapes) {
    minX = Math.min(minX, shape.x);
    minY = Math.min(minY, shape.y);
    maxX = Math.max(maxX, shape.x + shape.w);
    maxY = Math.max(maxY, shape.y + shape.h);
  }
  // Never closer than the board's own scale, so a lone small shape is not blown up.
  const width = Math.max(maxX - minX + 2 * MARGIN, MIN_VIEW_WIDTH);
  const height = Math.max(maxY - minY + 2 * MARGIN, MIN_VIEW_HEIGHT);
  const left = (minX + maxX - width) / 2;
  const top = (minY + maxY - height) / 2;
  target.setAttribute('viewBox', `${left} ${top} ${width} ${height}`);
}
