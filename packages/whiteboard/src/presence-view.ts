import type { CanvasStoreClient } from 'canvas-store-client';
import type { Camera } from './camera.js';
import { assignUserColors } from './cursor-colors.js';
import { h } from './dom.js';
import type { UserIdentity } from './session-config.js';

/** What each page publishes as its presence. `x`/`y` are null while the pointer is off the board. */
export interface PresenceState extends UserIdentity {
  x: number | null;
  y: number | null;
}

const CURSOR_ARROW =
  '<svg width="18" height="22" viewBox="0 0 18 22" aria-hidden="true">' +
  '<path d="M1 1 L1 17 L5.5 13 L8.5 20 L11.5 18.8 L8.5 12 L14.5 12 Z" fill="currentColor" stroke="white" stroke-width="1.5" stroke-linejoin="round"/></svg>';

/** Reads another page's presence, tolerating missing or foreign fields. */
function parsePresence(state: Readonly<Record<string, unknown>> | undefined): PresenceState {
  const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    name: typeof state?.name === 'string' && state.name !== '' ? state.name : 'Anonymous',
    color: typeof state?.color === 'string' ? state.color : '#868e96',
    x: num(state?.x),
    y: num(state?.y),
  };
}

/**
 * Shows the others in the room: their live cursors over the board
 * (`cursor-<clientId>`, labelled with the name, placed through this tab's
 * camera) and the who-is-here list (`people`, one `person-<clientId>` each,
 * the local user first). Colours come from {@link assignUserColors} over the
 * present clients (`data-color` on cursors and people), not from what each
 * client publishes, so two present users never share one.
 */
export class PresenceView {
  /** Overlay for the cursors; lies over the board and lets the pointer through. */
  readonly cursorLayer = h('div', { class: 'cursor-layer' });
  /** The who-is-here list. */
  readonly peopleList = h('ul', { class: 'people', 'data-testid': 'people' });
  private readonly cursors = new Map<string, HTMLElement>();
  private peopleSignature = '';
  private colors = new Map<string, string>();

  constructor(
    private readonly client: CanvasStoreClient,
    private readonly self: () => UserIdentity,
    private readonly camera: Camera,
  ) {}

  /** The colour assigned to `clientId` at the last render (this client's own included). */
  colorOf(clientId: string): string | undefined {
    return this.colors.get(clientId);
  }

  /** Redraws cursors and the list from `client.presence`. */
  render(): void {
    const others = new Map<string, PresenceState>();
    for (const [clientId, state] of this.client.presence) {
      if (clientId !== this.client.clientId) others.set(clientId, parsePresence(state));
    }
    this.colors = assignUserColors([this.client.clientId, ...others.keys()]);
    for (const [clientId, state] of others) state.color = this.colors.get(clientId) ?? state.color;
    this.renderCursors(others);
    this.renderPeople(others);
  }

  private renderCursors(others: Map<string, PresenceState>): void {
    for (const [clientId, element] of this.cursors) {
      const state = others.get(clientId);
      if (state?.x != null && state.y != null) continue;
      element.remove();
      this.cursors.delete(clientId);
    }
    for (const [clientId, state] of others) {
      if (state.x === null || state.y === null) continue;
      let element = this.cursors.get(clientId);
      if (!element) {
        element = h('div', { class: 'cursor', 'data-testid': `cursor-${clientId}` });
        element.innerHTML = CURSOR_ARROW;
        element.append(h('span', { class: 'cursor-name' }));
        this.cursorLayer.append(element);
        this.cursors.set(clientId, element);
      }
      const at = this.camera.toScreen({ x: state.x, y: state.y });
      element.style.transform = `translate(${round(at.x)}px, ${round(at.y)}px)`;
      element.style.color = state.color;
      element.dataset.color = state.color;
      const label = element.querySelector('.cursor-name') as HTMLElement;
      label.textContent = state.name;
      label.style.background = state.color;
    }
  }

  private renderPeople(others: Map<string, PresenceState>): void {
    const me = { ...this.self() };
    me.color = this.colors.get(this.client.clientId) ?? me.color;
    const entries: [string, UserIdentity, boolean][] = [[this.client.clientId, me, true]];
    const sorted = [...others].sort(([, a], [, b]) => a.name.localeCompare(b.name));
    for (const [clientId, state] of sorted) entries.push([clientId, state, false]);
    // Cursor moves arrive many times a second; the list changes only when people or names do.
    const signature = JSON.stringify(entries.map(([clientId, { name, color }]) => [clientId, name, color]));
    if (signature === this.peopleSignature) return;
    this.peopleSignature = signature;
    this.peopleList.replaceChildren(
      ...entries.map(([clientId, person, isSelf]) => {
        const dot = h('span', { class: 'person-dot', 'data-color': person.color });
        dot.style.background = person.color;
        return h(
          'li',
          { class: 'person', 'data-testid': `person-${clientId}`, title: clientId },
          dot,
          h('span', { class: 'person-name' }, person.name),
          isSelf ? h('span', { class: 'person-you' }, 'you') : '',
        );
      }),
    );
  }
}

/** Screen positions to 0.1 px: enough for the eye, short in the DOM. */
function round(value: number): number {
  return Math.round(value * 10) / 10;
}
