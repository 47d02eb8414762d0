import { h } from '../dom.js';
import { AdminApi, AdminError } from './admin-api.js';
import { Timeline } from './timeline.js';
import { renderDocument, renderRooms, renderSessions } from './views.js';

/** How often the inspector refreshes, ms. */
const REFRESH_MS = 2000;
const SECRET_KEY = 'inspector.adminSecret';

const error = h('div', { class: 'error', 'data-testid': 'inspect-error', role: 'alert', hidden: true });
const secretInput = h('input', {
  type: 'password',
  'data-testid': 'admin-secret',
  placeholder: 'Admin secret',
  autocomplete: 'current-password',
  required: true,
  'aria-label': 'Admin secret',
});
const loginForm = h(
  'form',
  { class: 'login card' },
  h('h1', {}, 'canvas-store inspector'),
  h('p', { class: 'muted' }, 'Enter the server’s admin secret (--admin-secret / CANVAS_ADMIN_SECRET).'),
  // Lets password managers file the secret; the admin API has no user name.
  h('input', { type: 'text', autocomplete: 'username', value: 'admin', hidden: true, 'aria-hidden': 'true' }),
  secretInput,
  h('button', { type: 'submit', 'data-testid': 'admin-login' }, 'Open inspector'),
);
const roomList = h('ul', { class: 'rooms', 'data-testid': 'rooms' });
const roomTitle = h('h2', {}, 'Select a room');
const openLink = h('a', { class: 'open-link', target: '_blank', hidden: true }, 'Open whiteboard ↗');
const sessions = h('div', { class: 'sessions', 'data-testid': 'sessions' });
const documentJson = h('pre', { class: 'document', 'data-testid': 'document-json' });
const timeline = new Timeline(() => void refresh());
const logout = h('button', { type: 'button', class: 'link', 'data-testid': 'admin-logout' }, 'Log out');
const inspector = h(
  'div',
  { class: 'inspector', hidden: true },
  h(
    'header',
    { class: 'topbar' },
    h('h1', {}, 'canvas-store inspector'),
    h('span', { class: 'muted' }, `refreshes every ${REFRESH_MS / 1000} s`),
    logout,
  ),
  h('nav', { class: 'card' }, h('h2', {}, 'Open rooms'), roomList),
  h(
    'main',
    { class: 'card' },
    h('div', { class: 'room-head' }, roomTitle, openLink),
    h('h3', {}, 'Sessions'),
    sessions,
    timeline.element,
    h('h3', {}, 'Document'),
    documentJson,
  ),
);

let api: AdminApi | null = null;
let selected: string | null = new URLSearchParams(window.location.search).get('room');
let timer: ReturnType<typeof setTimeout> | undefined;

function showError(message: string | null): void {
  error.hidden = message === null;
  error.textContent = message ?? '';
}

function showLogin(message: string | null): void {
  api = null;
  if (timer !== undefined) clearTimeout(timer);
  sessionStorage.removeItem(SECRET_KEY);
  inspector.hidden = true;
  loginForm.hidden = false;
  showError(message);
  secretInput.focus();
}

function select(roomId: string): void {
  selected = roomId;
  const url = new URL(window.location.href);
  url.searchParams.set('room', roomId);
  window.history.replaceState(null, '', url);
  void refresh();
}

/** Loads the room list and the selected room; a 401 sends the user back to the login form. */
async function refresh(): Promise<void> {
  if (timer !== undefined) clearTimeout(timer);
  const current = api;
  if (!current) return;
  try {
    renderRooms(roomList, await current.rooms(), selected, select);
    if (selected !== null) {
      const roomId = selected;
      const [details, document] = await Promise.all([current.room(roomId), current.document(roomId)]);
      if (roomId === selected) {
        roomTitle.replaceChildren(
          'Room ',
          h('code', {}, roomId),
          h('span', { class: 'muted' }, ` clock ${details.clock}`),
        );
        openLink.hidden = false;
        openLink.href = `/?room=${encodeURIComponent(roomId)}`;
        renderSessions(sessions, details);
        renderDocument(documentJson, document);
        await timeline.update(current, roomId, details.clock);
      }
    }
    showError(null);
  } catch (failure) {
    if (failure instanceof AdminError && failure.status === 401) {
      showLogin(failure.message);
      return;
    }
    showError(failure instanceof Error ? failure.message : String(failure));
  }
  if (api === current) timer = setTimeout(() => void refresh(), REFRESH_MS);
}

function start(secret: string): void {
  api = new AdminApi(secret);
  sessionStorage.setItem(SECRET_KEY, secret);
  loginForm.hidden = true;
  inspector.hidden = false;
  showError(null);
  void refresh();
}

loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const secret = secretInput.value.trim();
  if (secret !== '') start(secret);
});
logout.addEventListener('click', () => showLogin(null));

document.querySelector('#app')?.replaceWith(h('div', { class: 'page' }, error, loginForm, inspector));
const stored = sessionStorage.getItem(SECRET_KEY);
if (stored) start(stored);
else showLogin(null);
