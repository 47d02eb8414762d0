import { randomId } from '../random-id.js';
import { nextZ, type Shape } from '../shape-model.js';
import { type BoardPoint, snap, type Tool, type ToolContext } from './tool.js';

/** Smallest drag (px) that makes a rectangle; shorter drags are clicks. */
const MIN_SIZE = 3;

/** Draws a rectangle by dragging from one corner to the other. */
export class RectTool implements Tool {
  readonly name = 'rect';
  readonly cursor = 'crosshair';
  private origin: BoardPoint | undefined;
  private shape: Shape | undefined;

  constructor(private readonly ctx: ToolContext) {}

  down(point: BoardPoint): void {
    this.origin = { x: snap(point.x), y: snap(point.y) };
    this.shape = undefined;
  }

  move(point: BoardPoint): void {
    const origin = this.origin;
    if (!origin) return;
    const x = snap(point.x);
    const y = snap(point.y);
    const w = Math.abs(x - origin.x);
    const h = Math.abs(y - origin.y);
    if (!this.shape && w < MIN_SIZE && h < MIN_SIZE) return;
    this.shape = {
      id: this.shape?.id ?? randomId(),
      kind: 'rect',
      x: Math.min(x, origin.x),
      y: Math.min(y, origin.y),
      w,
      h,
      color: this.shape?.color ?? this.ctx.color(),
      z: this.shape?.z ?? nextZ(this.ctx.shapes()),
    };
    this.ctx.writer.update(this.shape);
  }

  up(point: BoardPoint): void {
    this.move(point);
    if (this.shape) this.ctx.writer.commit();
    this.origin = undefined;
    this.shape = undefined;
  }

  cancel(): void {
    if (this.shape) this.ctx.writer.commit();
    this.origin = undefined;
    this.shape = undefined;
  }

  abort(): void {
    if (this.shape) this.ctx.writer.revert();
    this.origin = undefined;
    this.shape = undefined;
  }
}
