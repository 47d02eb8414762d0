import { randomId } from '../random-id.js';
import { nextZ, type Shape } from '../shape-model.js';
import { type BoardPoint, snap, type Tool, type ToolContext } from './tool.js';

/** Points closer than this (px) to the previous one are skipped. */
const MIN_STEP = 2;

/**
 * Freehand strokes. The stroke is written while it is drawn: its `points`
 * array grows with `setArray` (sent as buffer deltas) and its box follows.
 */
export class PenTool implements Tool {
  readonly name = 'pen';
  readonly cursor = 'crosshair';
  private shape: Shape | undefined;
  private points: number[] = [];

  constructor(private readonly ctx: ToolContext) {}

  down(point: BoardPoint): void {
    const x = snap(point.x);
    const y = snap(point.y);
    this.points = [x, y];
    this.shape = {
      id: randomId(),
      kind: 'stroke',
      x,
      y,
      w: 0,
      h: 0,
      color: this.ctx.color(),
      points: this.points,
      z: nextZ(this.ctx.shapes()),
    };
    this.ctx.writer.update(this.shape);
  }

  move(point: BoardPoint): void {
    const shape = this.shape;
    if (!shape) return;
    const x = snap(point.x);
    const y = snap(point.y);
    const lastX = this.points[this.points.length - 2] as number;
    const lastY = this.points[this.points.length - 1] as number;
    if (Math.hypot(x - lastX, y - lastY) < MIN_STEP) return;
    this.points.push(x, y);
    const minX = Math.min(shape.x, x);
    const minY = Math.min(shape.y, y);
    const maxX = Math.max(shape.x + shape.w, x);
    const maxY = Math.max(shape.y + shape.h, y);
    this.shape = { ...shape, x: minX, y: minY, w: maxX - minX, h: maxY - minY, points: [...this.points] };
    this.ctx.writer.update(this.shape);
  }

  up(point: BoardPoint): void {
    this.move(point);
    if (this.shape && this.points.length === 2) {
      // A click leaves a dot: two equal points draw as one round cap.
      this.points.push(this.points[0] as number, this.points[1] as number);
      this.ctx.writer.update({ ...this.shape, points: [...this.points] });
    }
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  abort(): void {
    if (this.shape) this.ctx.writer.revert();
    this.shape = undefined;
    this.points = [];
  }

  private finish(): void {
    if (this.shape) this.ctx.writer.commit();
    this.shape = undefined;
    this.points = [];
  }
}
