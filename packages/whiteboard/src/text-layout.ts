/** Font of text shapes (also used by the in-place editor). */
export const TEXT_FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** Line height as a multiple of the font size. */
export const TEXT_LINE_HEIGHT = 1.25;
/** Font size of new text, board px. */
export const DEFAULT_TEXT_SIZE = 24;

/** The lines of a text (at least one). */
export function textLines(text: string): string[] {
  return text.split('\n');
}

/**
 * The font size of a text shape: its box height split over its lines. A
 * text's size is therefore just its height, so resizing it with the select
 * tool scales the letters, and no extra field is needed.
 */
export function textFontSize(text: string, height: number): number {
  return height / textLines(text).length / TEXT_LINE_HEIGHT;
}

let context: CanvasRenderingContext2D | null | undefined;

/** The box (board px) `text` takes at `fontSize`: the widest line by the lines' height. */
export function measureText(text: string, fontSize: number): { w: number; h: number } {
  context ??= document.createElement('canvas').getContext('2d');
  const lines = textLines(text);
  let width = 0;
  if (context) {
    context.font = `${fontSize}px ${TEXT_FONT_FAMILY}`;
    for (const line of lines) width = Math.max(width, context.measureText(line).width);
  } else {
    // No 2D canvas (unusual): estimate from the character count.
    for (const line of lines) width = Math.max(width, line.length * fontSize * 0.55);
  }
  return { w: Math.max(1, Math.ceil(width)), h: Math.ceil(lines.length * fontSize * TEXT_LINE_HEIGHT) };
}
