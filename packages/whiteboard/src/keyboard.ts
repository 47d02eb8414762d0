import { isTyping } from './dom.js';
import type { ToolName } from './tools/tool.js';

/** What the keyboard shortcuts do. */
interface KeyboardActions {
  undo(): void;
  redo(): void;
  deleteSelection(): void;
  clearSelection(): void;
  selectTool(name: ToolName): void;
  zoomIn(): void;
  zoomOut(): void;
  zoomReset(): void;
  /** Space went down (true) or up (false): drags pan while it is held. */
  space(held: boolean): void;
}

const TOOL_KEYS: Record<string, ToolName> = { v: 'select', h: 'hand', r: 'rect', p: 'pen', t: 'text' };

/**
 * The board's shortcuts (see docs/whiteboard.md): Ctrl/Cmd+Z undo,
 * Ctrl/Cmd+Shift+Z or Ctrl+Y redo, Delete/Backspace, Escape, tool letters,
 * `+`/`-`/`0` zoom, Space to pan. Quiet while a text field has the focus, so
 * typing (and the field's own undo) works. Returns a detach function.
 */
export function attachKeyboard(actions: KeyboardActions): () => void {
  const onDown = (event: KeyboardEvent) => {
    if (isTyping(event.target)) return;
    const key = event.key.toLowerCase();
    if (event.ctrlKey || event.metaKey) {
      if (key === 'z') {
        event.preventDefault();
        if (event.shiftKey) actions.redo();
        else actions.undo();
      } else if (key === 'y') {
        event.preventDefault();
        actions.redo();
      }
      return;
    }
    if (event.altKey) return;
    if (event.key === ' ') {
      // Space would scroll or press the focused button.
      event.preventDefault();
      if (!event.repeat) actions.space(true);
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      actions.deleteSelection();
    } else if (event.key === 'Escape') {
      actions.clearSelection();
    } else if (key === '+' || key === '=') {
      actions.zoomIn();
    } else if (key === '-') {
      actions.zoomOut();
    } else if (key === '0') {
      actions.zoomReset();
    } else {
      const tool = TOOL_KEYS[key];
      if (tool) actions.selectTool(tool);
    }
  };
  const onUp = (event: KeyboardEvent) => {
    if (event.key === ' ') actions.space(false);
  };
  // Space released while the window was in the background never sends keyup.
  const onBlur = () => actions.space(false);
  window.addEventListener('keydown', onDown);
  window.addEventListener('keyup', onUp);
  window.addEventListener('blur', onBlur);
  return () => {
    window.removeEventListener('keydown', onDown);
    window.removeEventListener('keyup', onUp);
    window.removeEventListener('blur', onBlur);
  };
}
