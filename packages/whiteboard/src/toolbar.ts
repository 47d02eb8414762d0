import { h } from './dom.js';
import { colorTestId, SHAPE_COLORS } from './palette.js';
import type { ToolName } from './tools/tool.js';

/** What the toolbar's buttons do. */
interface ToolbarActions {
  selectTool(tool: ToolName): void;
  pickColor(color: string): void;
  deleteSelection(): void;
  toggleOffline(): void;
}

const TOOLS: { name: ToolName; label: string; icon: string; key: string }[] = [
  { name: 'select', label: 'Select', icon: '↖', key: 'V' },
  { name: 'hand', label: 'Hand', icon: '✥', key: 'H' },
  { name: 'rect', label: 'Rectangle', icon: '▭', key: 'R' },
  { name: 'pen', label: 'Pen', icon: '✎', key: 'P' },
  { name: 'text', label: 'Text', icon: 'T', key: 'T' },
];

/**
 * The floating toolbar: tools (`tool-select`, `tool-hand`, `tool-rect`,
 * `tool-pen`, `tool-text`), the colour palette (`color-<hex>`), `delete` and
 * the `offline-toggle` switch. Labels hide on narrow screens (CSS), leaving
 * the icons, and the groups wrap onto a second row on phones.
 */
export class Toolbar {
  /** The toolbar element. */
  readonly element: HTMLElement;
  private readonly toolButtons = new Map<ToolName, HTMLButtonElement>();
  private readonly swatches = new Map<string, HTMLButtonElement>();
  private readonly deleteButton: HTMLButtonElement;
  private readonly offlineButton: HTMLButtonElement;

  constructor(actions: ToolbarActions) {
    const tools = TOOLS.map(({ name, label, icon, key }) => {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'tool',
          'data-testid': `tool-${name}`,
          title: `${label} (${key})`,
          'aria-label': label,
        },
        h('span', { class: 'tool-icon', 'aria-hidden': 'true' }, icon),
        h('span', { class: 'tool-label' }, label),
      );
      button.addEventListener('click', () => actions.selectTool(name));
      this.toolButtons.set(name, button);
      return button;
    });
    const colors = SHAPE_COLORS.map((color) => {
      const button = h('button', {
        type: 'button',
        class: 'swatch',
        'data-testid': colorTestId(color),
        'aria-label': `Colour ${color}`,
        title: color,
      });
      button.style.setProperty('--swatch', color);
      button.addEventListener('click', () => actions.pickColor(color));
      this.swatches.set(color, button);
      return button;
    });
    this.deleteButton = h(
      'button',
      {
        type: 'button',
        class: 'tool',
        'data-testid': 'delete',
        title: 'Delete the selected shape (Del)',
        'aria-label': 'Delete',
      },
      h('span', { class: 'tool-icon', 'aria-hidden': 'true' }, '✕'),
      h('span', { class: 'tool-label' }, 'Delete'),
    );
    this.deleteButton.addEventListener('click', () => actions.deleteSelection());
    this.offlineButton = h('button', {
      type: 'button',
      class: 'offline-toggle',
      'data-testid': 'offline-toggle',
      role: 'switch',
    });
    this.offlineButton.addEventListener('click', () => actions.toggleOffline());
    this.element = h(
      'header',
      { class: 'toolbar', 'data-testid': 'toolbar', role: 'toolbar', 'aria-label': 'Whiteboard tools' },
      h('div', { class: 'group' }, ...tools),
      h('div', { class: 'group palette' }, ...colors),
      h('div', { class: 'group' }, this.deleteButton),
      h('div', { class: 'group' }, this.offlineButton),
    );
  }

  /** Highlights the active tool. */
  setTool(tool: ToolName): void {
    for (const [name, button] of this.toolButtons) button.setAttribute('aria-pressed', String(name === tool));
  }

  /** Highlights `color`: the selected shape's, or the one new shapes get. */
  setColor(color: string): void {
    this.element.dataset.color = color;
    for (const [value, button] of this.swatches) button.setAttribute('aria-pressed', String(value === color));
  }

  /** Enables the delete button when something is selected. */
  setCanDelete(enabled: boolean): void {
    this.deleteButton.disabled = !enabled;
  }

  /** Shows whether the user switched the connection off. */
  setOffline(offline: boolean): void {
    this.offlineButton.setAttribute('aria-checked', String(offline));
    this.offlineButton.dataset.offline = String(offline);
    this.offlineButton.textContent = offline ? 'Go online' : 'Go offline';
    this.offlineButton.title = offline
      ? 'Reconnect and sync the edits made offline'
      : 'Disconnect to try offline editing';
  }
}
