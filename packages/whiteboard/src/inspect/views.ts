import { h } from '../dom.js';
import type { RoomDetails, RoomSummary } from './admin-api.js';

/**
 * Renders the room list (`rooms`, one `room-<roomId>` button each, the
 * selected one marked `aria-current`).
 */
export function renderRooms(
  list: HTMLElement,
  rooms: readonly RoomSummary[],
  selected: string | null,
  onSelect: (roomId: string) => void,
): void {
  if (rooms.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No open rooms. Open the whiteboard to create one.'));
    return;
  }
  const sorted = [...rooms].sort((a, b) => a.roomId.localeCompare(b.roomId));
  list.replaceChildren(
    ...sorted.map((room) => {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'room',
          'data-testid': `room-${room.roomId}`,
          'aria-current': room.roomId === selected ? 'true' : undefined,
        },
        h('span', { class: 'room-id' }, room.roomId),
        h(
          'span',
          { class: 'room-meta' },
          `${room.sessions} ${room.sessions === 1 ? 'session' : 'sessions'} · clock ${room.clock}`,
        ),
      );
      button.addEventListener('click', () => onSelect(room.roomId));
      return h('li', {}, button);
    }),
  );
}

/** Renders a room's sessions as a table (`sessions`). */
export function renderSessions(container: HTMLElement, details: RoomDetails): void {
  if (details.sessions.length === 0) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No one is connected.'));
    return;
  }
  const rows = details.sessions.map((session) =>
    h(
      'tr',
      { 'data-session-id': session.sessionId },
      h('td', {}, h('code', {}, session.clientId)),
      h('td', {}, session.permissions),
      h('td', {}, h('code', {}, session.sessionId)),
      h('td', {}, session.metadata === undefined ? '' : JSON.stringify(session.metadata)),
    ),
  );
  container.replaceChildren(
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Client'),
          h('th', {}, 'Permission'),
          h('th', {}, 'Session'),
          h('th', {}, 'Metadata'),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** Pretty JSON, with arrays of numbers (stroke points) kept on one line. */
function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[(?:\s*-?[\d.eE+-]+,?)+\s*\]/g,
    (array) =>
      `[${array
        .slice(1, -1)
        .split(',')
        .map((item) => item.trim())
        .join(', ')}]`,
  );
}

/** Shows the document as pretty JSON, touching the DOM only when it changed (keeps scroll and selection). */
export function renderDocument(pre: HTMLElement, document: unknown): void {
  const text = prettyJson(document);
  if (pre.textContent !== text) pre.textContent = text;
}
