import type { Shape } from '../shape-model.js';
import { type BoardPoint, shapeIdAt, type Tool, type ToolContext } from './tool.js';

/**
 * Text: a press on a text shape edits it, a press elsewhere starts a new
 * text there. The editing itself happens in the app's text editor.
 */
export class TextTool implements Tool {
  readonly name = 'text';
  readonly cursor = 'text';

  constructor(private readonly ctx: ToolContext) {}

  down(point: BoardPoint, target: Element | null): void {
    const id = shapeIdAt(target);
    const shape: Shape | undefined =
      id === undefined ? undefined : this.ctx.shapes().find((s) => s.id === id);
    this.ctx.editText(shape?.kind === 'text' ? shape : null, point);
  }

  move(): void {}

  up(): void {}

  cancel(): void {}

  abort(): void {}
}
