import type { Tool } from './tool.js';

/**
 * The hand: dragging pans the board. The board input does the panning
 * itself (as it does with Space held or the middle button), so this tool
 * only names the mode and its cursor.
 */
export class HandTool implements Tool {
  readonly name = 'hand';
  readonly cursor = 'grab';
  down(): void {}
  move(): void {}
  up(): void {}
  cancel(): void {}

  abort(): void {}
}
