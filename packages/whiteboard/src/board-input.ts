import type { BoardPoint, Tool } from './tools/tool.js';

/** What the board's pointer input drives. */
export interface BoardInputTarget {
  /** The active tool; it receives presses, drags and releases. */
  tool(): Tool;
  /** The pointer moved over the board (`null`: it left). Used for the live cursor. */
  hover(point: BoardPoint | null): void;
}

/**
 * Routes pointer events on `board` to the active tool, capturing the pointer
 * for the length of a drag. Board coordinates are client coordinates minus
 * the board's offset (zero for the full-window board). Returns a detach function.
 */
export function attachBoardInput(board: SVGSVGElement, target: BoardInputTarget): () => void {
  let activePointer: number | undefined;
  let activeTool: Tool | undefined;

  const toBoard = (event: PointerEvent): BoardPoint => {
    const rect = board.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  const end = () => {
    activePointer = undefined;
    activeTool = undefined;
  };

  const onDown = (event: PointerEvent) => {
    if (event.button !== 0 || activePointer !== undefined) return;
    event.preventDefault();
    // preventDefault keeps focus where it was: leave text fields so Delete reaches the board.
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    activePointer = event.pointerId;
    activeTool = target.tool();
    board.setPointerCapture(event.pointerId);
    activeTool.down(toBoard(event), event.target instanceof Element ? event.target : null);
  };
  const onMove = (event: PointerEvent) => {
    const point = toBoard(event);
    target.hover(point);
    if (event.pointerId === activePointer) activeTool?.move(point);
  };
  const onUp = (event: PointerEvent) => {
    if (event.pointerId !== activePointer) return;
    const tool = activeTool;
    end();
    if (board.hasPointerCapture(event.pointerId)) board.releasePointerCapture(event.pointerId);
    tool?.up(toBoard(event));
  };
  const onCancel = (event: PointerEvent) => {
    if (event.pointerId !== activePointer) return;
    const tool = activeTool;
    end();
    tool?.cancel();
  };
  const onLeave = () => {
    if (activePointer === undefined) target.hover(null);
  };

  board.addEventListener('pointerdown', onDown);
  board.addEventListener('pointermove', onMove);
  board.addEventListener('pointerup', onUp);
  board.addEventListener('pointercancel', onCancel);
  board.addEventListener('lostpointercapture', onCancel);
  board.addEventListener('pointerleave', onLeave);
  return () => {
    board.removeEventListener('pointerdown', onDown);
    board.removeEventListener('pointermove', onMove);
    board.removeEventListener('pointerup', onUp);
    board.removeEventListener('pointercancel', onCancel);
    board.removeEventListener('lostpointercapture', onCancel);
    board.removeEventListener('pointerleave', onLeave);
  };
}
