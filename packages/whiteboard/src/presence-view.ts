import type { CanvasStoreClient } from 'canvas-store-client';
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
export function parsePresence(state: Readonly<Record<string, unknown>> | undefined): PresenceState {
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
 * (`cursor-<clientId>`, labelled with the name) and the who-is-here list
 * (`people`, one `person-<clientId>` each, the local user first).
 */
export class PresenceView {
  /** Overlay for the cursors; lies over the board and lets the pointer through. */
  readonly cursorLayer = h('div', { class: 'cursor-layer' });
  /** The who-is-here list. */
  readonly peopleList = h('ul', { class: 'people', 'data-testid': 'people' });
  private readonly cursors = new Map<string, HTMLElement>();
  private peopleSignature = '';

  constructor(
    private readonly client: CanvasStoreClient,
    private readonly self: () => UserIdentity,
  ) {}

  /** Redraws cursors and the list from `client.presence`. */
  render(): void {
    const others = new Map<string, PresenceState>();
    for (const [clientId, state] of this.client.presence) {
      if (clientId !== this.client.clientId) others.set(clientId, parsePresence(state));
    }
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
      element.style.transform = `translate(${state.x}px, ${state.y}px)`;
      element.style.color = state.color;
      const label = element.querySelector('.cursor-name') as HTMLElement;
      label.textContent = state.name;
      label.style.background = state.color;
    }
  }

  private renderPeople(others: Map<string, PresenceState>): void {
    const me = this.self();
    const entries: [string, UserIdentity, boolean][] = [[this.client.clientId, me, true]];
    const sorted = [...others].sort(([, a], [, b]) => a.name.localeCompare(b.name));
    for (const [clientId, state] of sorted) entries.push([clientId, state, false]);
    // Cursor moves arrive many times a second; the list changes only when people or names do.
    const signature = JSON.stringify(entries.map(([clientId, { name, color }]) => [clientId, name, color]));
    if (signature === this.peopleSignature) return;
    this.peopleSignature = signature;
    this.peopleList.replaceChildren(
      ...entries.map(([clientId, person, isSelf]) => {
        const dot = h('span', { class: 'person-dot' });
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
