import type { BoardPoint } from './tools/tool.js';

/** Smallest and largest zoom factors. */
export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 8;

/** A point on the screen, relative to the board element's top-left corner (CSS px). */
export interface ScreenPoint {
  x: number;
  y: number;
}

function clampZoom(zoom: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/**
 * The view onto the board: which board point is at the screen's top-left
 * corner (`x`, `y`) and how many screen pixels a board unit takes (`zoom`).
 * `screen = (board - origin) * zoom`. Only this tab sees it: panning and
 * zooming are not edits and are never synced.
 */
export class Camera {
  private originX = 0;
  private originY = 0;
  private zoomValue = 1;
  private readonly listeners = new Set<() => void>();

  /** Board x at the screen's left edge. */
  get x(): number {
    return this.originX;
  }

  /** Board y at the screen's top edge. */
  get y(): number {
    return this.originY;
  }

  /** Screen pixels per board unit. */
  get zoom(): number {
    return this.zoomValue;
  }

  /** The board point under a screen point. */
  toBoard(point: ScreenPoint): BoardPoint {
    return { x: point.x / this.zoomValue + this.originX, y: point.y / this.zoomValue + this.originY };
  }

  /** The screen point of a board point. */
  toScreen(point: BoardPoint): ScreenPoint {
    return { x: (point.x - this.originX) * this.zoomValue, y: (point.y - this.originY) * this.zoomValue };
  }

  /** Moves the content by `dx, dy` screen pixels (a drag of the board). */
  panBy(dx: number, dy: number): void {
    if (dx === 0 && dy === 0) return;
    this.originX -= dx / this.zoomValue;
    this.originY -= dy / this.zoomValue;
    this.changed();
  }

  /** Sets the zoom (clamped), keeping the board point under `anchor` where it is on screen. */
  zoomTo(zoom: number, anchor: ScreenPoint): void {
    const next = clampZoom(zoom);
    if (next === this.zoomValue) return;
    const fixed = this.toBoard(anchor);
    this.zoomValue = next;
    this.originX = fixed.x - anchor.x / next;
    this.originY = fixed.y - anchor.y / next;
    this.changed();
  }

  /** Multiplies the zoom by `factor` around `anchor`. */
  zoomBy(factor: number, anchor: ScreenPoint): void {
    this.zoomTo(this.zoomValue * factor, anchor);
  }

  /** Back to 100 % with board point 0, 0 at the top-left corner. */
  reset(): void {
    if (this.originX === 0 && this.originY === 0 && this.zoomValue === 1) return;
    this.originX = 0;
    this.originY = 0;
    this.zoomValue = 1;
    this.changed();
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
