import type { Shape } from '../shape-model.js';
import { type BoardPoint, shapeIdAt, snap, type Tool, type ToolContext } from './tool.js';

/** Smallest size (px) a shape can be resized to. */
const MIN_SIZE = 1;

type Gesture = { mode: 'move' | 'resize'; start: BoardPoint; shape: Shape; changed: boolean };

/**
 * Selects the shape under the pointer; dragging it moves it, dragging the
 * corner handle (`data-handle="resize"`) of the selected shape resizes it.
 * Pressing on the empty board clears the selection.
 */
export class SelectTool implements Tool {
  readonly name = 'select';
  readonly cursor = 'default';
  private gesture: Gesture | undefined;

  constructor(private readonly ctx: ToolContext) {}

  down(point: BoardPoint, target: Element | null): void {
    const shapes = this.ctx.shapes();
    const onHandle = target?.closest('[data-handle="resize"]') != null;
    const id = onHandle ? this.ctx.selection.id : shapeIdAt(target);
    const shape = id == null ? undefined : shapes.find((candidate) => candidate.id === id);
    this.ctx.selection.set(shape?.id ?? null);
    this.gesture = shape && { mode: onHandle ? 'resize' : 'move', start: point, shape, changed: false };
  }

  move(point: BoardPoint): void {
    const gesture = this.gesture;
    if (!gesture) return;
    const dx = snap(point.x - gesture.start.x);
    const dy = snap(point.y - gesture.start.y);
    if (!gesture.changed && dx === 0 && dy === 0) return;
    gesture.changed = true;
    const { shape } = gesture;
    this.ctx.writer.update(
      gesture.mode === 'move'
        ? { ...shape, x: shape.x + dx, y: shape.y + dy }
        : { ...shape, w: Math.max(MIN_SIZE, shape.w + dx), h: Math.max(MIN_SIZE, shape.h + dy) },
    );
  }

  up(point: BoardPoint): void {
    this.move(point);
    this.cancel();
  }

  cancel(): void {
    if (this.gesture?.changed) this.ctx.writer.commit();
    this.gesture = undefined;
  }

  abort(): void {
    if (this.gesture?.changed) this.ctx.writer.revert();
    this.gesture = undefined;
  }
}
