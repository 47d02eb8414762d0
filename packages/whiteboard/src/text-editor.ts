import type { Camera } from './camera.js';
import { h } from './dom.js';
import { measureText, TEXT_FONT_FAMILY, TEXT_LINE_HEIGHT } from './text-layout.js';
import type { BoardPoint } from './tools/tool.js';

/** What is being edited: where, in which size and colour, starting from which text. */
export interface TextEditTarget {
  /** The text's top-left corner, board px. */
  at: BoardPoint;
  fontSize: number;
  color: string;
  text: string;
  /** The shape being edited (null: a new text). */
  shapeId: string | null;
}

/**
 * The in-place text editor (`text-editor`): a textarea laid over the board
 * where the text is, scaled with the camera. Enter or leaving the field
 * finishes (Shift+Enter starts a new line), Escape cancels. `done` gets the
 * text, or null when cancelled.
 */
export class TextEditor {
  /** The textarea; mount it over the board. */
  readonly element = h('textarea', {
    class: 'text-editor',
    'data-testid': 'text-editor',
    rows: 1,
    spellcheck: false,
    'aria-label': 'Text',
    hidden: true,
  });
  private target: TextEditTarget | null = null;
  private done: ((text: string | null) => void) | null = null;
  private closedByPointer = false;

  constructor(private readonly camera: Camera) {
    this.element.addEventListener('input', () => this.layout());
    this.element.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.finish(this.element.value);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        this.finish(null);
      }
    });
    this.element.addEventListener('blur', () => {
      if (!this.target) return;
      // A press on the board ends the edit; that same press must not start another one.
      this.closedByPointer = true;
      queueMicrotask(() => {
        this.closedByPointer = false;
      });
      this.finish(this.element.value);
    });
  }

  /** The shape being edited (hidden on the board meanwhile), or null. */
  get editingId(): string | null {
    return this.target?.shapeId ?? null;
  }

  get isOpen(): boolean {
    return this.target !== null;
  }

  /** True during the press that just closed the editor (see the blur handler). */
  get justClosed(): boolean {
    return this.closedByPointer;
  }

  /** Opens the editor on `target`; `done` is called once when it closes. */
  open(target: TextEditTarget, done: (text: string | null) => void): void {
    if (this.target) this.finish(this.element.value);
    this.target = target;
    this.done = done;
    this.element.value = target.text;
    this.element.hidden = false;
    this.layout();
    this.element.focus();
    this.element.select();
  }

  /** Follows the camera (call after it moved). */
  layout(): void {
    const target = this.target;
    if (!target) return;
    const zoom = this.camera.zoom;
    const screen = this.camera.toScreen(target.at);
    const size = measureText(this.element.value || ' ', target.fontSize);
    const style = this.element.style;
    style.left = `${screen.x}px`;
    style.top = `${screen.y}px`;
    style.fontSize = `${target.fontSize * zoom}px`;
    style.fontFamily = TEXT_FONT_FAMILY;
    style.lineHeight = String(TEXT_LINE_HEIGHT);
    style.color = target.color;
    style.width = `${(size.w + target.fontSize) * zoom}px`;
    style.height = `${size.h * zoom}px`;
  }

  private finish(text: string | null): void {
    const done = this.done;
    this.target = null;
    this.done = null;
    this.element.hidden = true;
    if (document.activeElement === this.element) this.element.blur();
    done?.(text);
  }
}
