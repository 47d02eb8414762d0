import type { CanvasStoreClient } from 'canvas-store-client';
import type { Selection } from '../selection.js';
import type { Shape } from '../shape-model.js';
import type { ShapeWriter } from '../shape-writer.js';

/** The tools of the toolbar. */
export type ToolName = 'select' | 'hand' | 'rect' | 'pen' | 'text';

/** A point in board coordinates. */
export interface BoardPoint {
  x: number;
  y: number;
}

/** What a tool may read and change. */
export interface ToolContext {
  client: CanvasStoreClient;
  writer: ShapeWriter;
  selection: Selection;
  /** The shapes on the board right now (drafts included), bottom to top. */
  shapes(): Shape[];
  /** The colour picked in the palette. */
  color(): string;
  /** Opens the text editor on `shape` (a text), or on a new text at `at` when null. */
  editText(shape: Shape | null, at: BoardPoint): void;
}

/**
 * A pointer tool. The board captures the pointer on `down`, so `move` and
 * `up` follow until the button is released; `cancel` ends a gesture early
 * (the tool was switched or the pointer was lost), keeping what it did;
 * `abort` takes it back (a second finger made the touch a pinch).
 */
export interface Tool {
  readonly name: ToolName;
  /** CSS cursor over the board. */
  readonly cursor: string;
  /** `target` is the element under the pointer (a shape, a handle or the board). */
  down(point: BoardPoint, target: Element | null): void;
  move(point: BoardPoint): void;
  up(point: BoardPoint): void;
  cancel(): void;
  abort(): void;
}

/** The shape id of the rendered element `target` belongs to, if any. */
export function shapeIdAt(target: Element | null): string | undefined {
  return target?.closest<SVGElement>('[data-shape-id]')?.dataset.shapeId;
}

/** Rounds a board coordinate; the document stores whole pixels. */
export function snap(value: number): number {
  return Math.round(value);
}
