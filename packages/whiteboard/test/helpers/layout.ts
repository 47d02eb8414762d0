import type { BoardPage } from './browser.js';

/** An element's box on the screen and whether it is shown. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  visible: boolean;
}

/** The screen boxes of the elements with these test ids (each must exist). */
export async function boxes(board: BoardPage, ids: readonly string[]): Promise<Record<string, Box>> {
  return board.page.evaluate((testIds) => {
    const out: Record<string, Box> = {};
    for (const id of testIds) {
      const element = document.querySelector(`[data-testid="${id}"]`) as HTMLElement;
      const rect = element.getBoundingClientRect();
      out[id] = { x: rect.x, y: rect.y, w: rect.width, h: rect.height, visible: element.checkVisibility() };
    }
    return out;
  }, ids);
}

/** True when two boxes share any area. */
export function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}
