import { setAttrs, svg } from './dom.js';
import { pointBounds, type Shape } from './shape-model.js';
import { TEXT_FONT_FAMILY, TEXT_LINE_HEIGHT, textFontSize, textLines } from './text-layout.js';

/** Line width of strokes and rectangle outlines, px. */
const LINE_WIDTH = 3;

/** A signature of everything that affects how a shape looks, to skip unchanged shapes. */
export function shapeSignature(shape: Shape): string {
  const points = shape.points;
  const tail = points ? `${points.length}:${points[points.length - 2]},${points[points.length - 1]}` : '';
  return `${shape.kind}|${shape.x}|${shape.y}|${shape.w}|${shape.h}|${shape.color}|${tail}|${shape.text ?? ''}`;
}

/**
 * Creates the element of a shape: a `<g data-testid="shape-<id>">` carrying
 * the shape's fields as data attributes (`data-points-count` counts x, y
 * pairs; texts also carry `data-text`).
 */
export function createShapeElement(shape: Shape): SVGGElement {
  const group = svg('g', { 'data-testid': `shape-${shape.id}`, 'data-shape-id': shape.id, class: 'shape' });
  if (shape.kind === 'rect') {
    group.append(
      svg('rect', {
        class: 'shape-body',
        'stroke-width': LINE_WIDTH,
        rx: 2,
        // Like strokes, outlines keep their screen width at any zoom.
        'vector-effect': 'non-scaling-stroke',
      }),
    );
  } else if (shape.kind === 'text') {
    group.append(
      svg('rect', { class: 'shape-hit', fill: 'transparent' }),
      svg('text', {
        class: 'shape-body',
        'font-family': TEXT_FONT_FAMILY,
        'dominant-baseline': 'text-before-edge',
      }),
    );
  } else {
    // The whole box is the stroke's hit area, so thin lines are easy to pick.
    group.append(
      svg('rect', { class: 'shape-hit', fill: 'transparent' }),
      svg('polyline', {
        class: 'shape-body',
        fill: 'none',
        'stroke-width': LINE_WIDTH,
        'stroke-linecap': 'round',
        'stroke-linejoin': 'round',
        'vector-effect': 'non-scaling-stroke',
      }),
    );
  }
  updateShapeElement(group, shape);
  return group;
}

/** Brings an element made by {@link createShapeElement} up to date with `shape`. */
export function updateShapeElement(group: SVGGElement, shape: Shape): void {
  setAttrs(group, {
    'data-kind': shape.kind,
    'data-x': shape.x,
    'data-y': shape.y,
    'data-w': shape.w,
    'data-h': shape.h,
    'data-color': shape.color,
    'data-points-count': shape.points ? Math.floor(shape.points.length / 2) : 0,
    'data-text': shape.text,
  });
  const body = group.querySelector('.shape-body');
  if (!body) return;
  if (shape.kind === 'text') {
    updateText(group, body as SVGTextElement, shape);
    return;
  }
  if (shape.kind === 'rect') {
    setAttrs(body, {
      x: shape.x,
      y: shape.y,
      width: Math.max(shape.w, 0),
      height: Math.max(shape.h, 0),
      stroke: shape.color,
      fill: shape.color,
      'fill-opacity': 0.18,
    });
    return;
  }
  const points = shape.points ?? [];
  const bounds = pointBounds(points);
  const naturalW = bounds.maxX - bounds.minX;
  const naturalH = bounds.maxY - bounds.minY;
  const sx = naturalW > 0 ? shape.w / naturalW : 1;
  const sy = naturalH > 0 ? shape.h / naturalH : 1;
  let list = '';
  for (let i = 0; i + 1 < points.length; i += 2) list += `${points[i]},${points[i + 1]} `;
  setAttrs(body, {
    points: list,
    stroke: shape.color,
    transform: `translate(${shape.x - bounds.minX * sx} ${shape.y - bounds.minY * sy}) scale(${sx} ${sy})`,
  });
  const pad = LINE_WIDTH * 2;
  setAttrs(group.querySelector('.shape-hit') as Element, {
    x: shape.x - pad,
    y: shape.y - pad,
    width: shape.w + 2 * pad,
    height: shape.h + 2 * pad,
  });
}

/** Lays a text shape's lines out from its top-left corner, its font size following its height. */
function updateText(group: SVGGElement, body: SVGTextElement, shape: Shape): void {
  const text = shape.text ?? '';
  const size = textFontSize(text, shape.h);
  setAttrs(body, { x: shape.x, y: shape.y, 'font-size': size, fill: shape.color });
  body.replaceChildren(
    ...textLines(text).map((line, i) =>
      // A non-breaking space keeps empty lines (SVG drops empty tspans from the layout).
      svg(
        'tspan',
        { x: shape.x, y: shape.y + i * size * TEXT_LINE_HEIGHT },
        document.createTextNode(line || '\u00a0'),
      ),
    ),
  );
  setAttrs(group.querySelector('.shape-hit') as Element, {
    x: shape.x,
    y: shape.y,
    width: shape.w,
    height: shape.h,
  });
}
