import { h } from './dom.js';

/** What the view bar's buttons do. */
interface ViewBarActions {
  undo(): void;
  redo(): void;
  zoomIn(): void;
  zoomOut(): void;
  zoomReset(): void;
}

function iconButton(testId: string, icon: string, title: string, action: () => void): HTMLButtonElement {
  const button = h(
    'button',
    { type: 'button', class: 'tool', 'data-testid': testId, title, 'aria-label': title },
    h('span', { class: 'tool-icon', 'aria-hidden': 'true' }, icon),
  );
  button.addEventListener('click', action);
  return button;
}

/**
 * The bar in the bottom-left corner: `undo` and `redo` (disabled when there
 * is nothing to undo or redo), `zoom-out`, `zoom-reset` (shows the zoom, e.g.
 * "100%"; a click goes back to 100 % at the origin) and `zoom-in`.
 */
export class ViewBar {
  readonly element: HTMLElement;
  private readonly undoButton: HTMLButtonElement;
  private readonly redoButton: HTMLButtonElement;
  private readonly zoomLabel: HTMLButtonElement;

  constructor(actions: ViewBarActions) {
    const mod = /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl+';
    this.undoButton = iconButton('undo', '↶', `Undo (${mod}Z)`, () => actions.undo());
    this.redoButton = iconButton('redo', '↷', `Redo (${mod}Shift+Z)`, () => actions.redo());
    this.zoomLabel = h('button', {
      type: 'button',
      class: 'tool zoom-level',
      'data-testid': 'zoom-reset',
      title: 'Reset the view to 100 % (0)',
    });
    this.zoomLabel.addEventListener('click', () => actions.zoomReset());
    this.element = h(
      'div',
      { class: 'view-bar', 'data-testid': 'view-bar', role: 'toolbar', 'aria-label': 'History and zoom' },
      h('div', { class: 'group' }, this.undoButton, this.redoButton),
      h(
        'div',
        { class: 'group' },
        iconButton('zoom-out', '−', 'Zoom out (-)', () => actions.zoomOut()),
        this.zoomLabel,
        iconButton('zoom-in', '+', 'Zoom in (+)', () => actions.zoomIn()),
      ),
    );
  }

  /** Enables undo and redo as the history allows. */
  setHistory(canUndo: boolean, canRedo: boolean): void {
    this.undoButton.disabled = !canUndo;
    this.redoButton.disabled = !canRedo;
  }

  /** Shows the zoom as a percentage. */
  setZoom(zoom: number): void {
    this.zoomLabel.textContent = `${Math.round(zoom * 100)}%`;
  }
}
