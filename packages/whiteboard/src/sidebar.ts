import { h } from './dom.js';

/** What the sidebar shows and reports. */
interface SidebarOptions {
  roomId: string;
  /** The connection panel (see `StatusView`). */
  status: HTMLElement;
  /** The who-is-here list (see `PresenceView`). */
  people: HTMLElement;
  name: string;
  /** The user typed a new name (already trimmed, never empty). */
  onRename(name: string): void;
}

/**
 * The sidebar: connection status, the room and its share link (`share-link`,
 * `copy-link`), the user's editable name (`name-input`) and who is here.
 */
export function createSidebar(options: SidebarOptions): HTMLElement {
  const link = h('input', {
    class: 'share-link',
    'data-testid': 'share-link',
    readonly: true,
    value: window.location.href,
    'aria-label': 'Link to this room',
  });
  const copy = h('button', { type: 'button', class: 'small', 'data-testid': 'copy-link' }, 'Copy');
  copy.addEventListener('click', async () => {
    link.value = window.location.href;
    try {
      await navigator.clipboard.writeText(link.value);
      copy.textContent = 'Copied';
    } catch {
      // No clipboard access (plain http on a LAN address): let the user copy it.
      link.select();
      copy.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => {
      copy.textContent = 'Copy';
    }, 1500);
  });

  const name = h('input', {
    class: 'name-input',
    'data-testid': 'name-input',
    value: options.name,
    maxlength: 40,
    'aria-label': 'Your name',
  });
  const rename = () => {
    const value = name.value.trim();
    if (value === '') name.value = options.name;
    else if (value !== options.name) {
      options.name = value;
      options.onRename(value);
    }
  };
  name.addEventListener('change', rename);
  name.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') name.blur();
  });

  return h(
    'aside',
    { class: 'sidebar', id: 'sidebar', 'data-testid': 'sidebar', 'aria-label': 'Room' },
    options.status,
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Room ', h('code', { 'data-testid': 'room-id' }, options.roomId)),
      h('div', { class: 'row' }, link, copy),
      h('p', { class: 'muted' }, 'Share this link to draw together.'),
    ),
    h('section', { class: 'panel' }, h('h2', {}, 'Your name'), name),
    h('section', { class: 'panel' }, h('h2', {}, 'Here now'), options.people),
  );
}

/** Below this window width the sidebar starts closed, so it does not cover the board. */
const WIDE_SCREEN = '(min-width: 900px)';

/**
 * The button that shows and hides the sidebar (`sidebar-toggle`, with
 * `aria-expanded`). The sidebar starts open on wide screens and closed on
 * narrow ones (phones), where it would cover the board.
 */
export function createSidebarToggle(sidebar: HTMLElement): HTMLButtonElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'sidebar-toggle',
      'data-testid': 'sidebar-toggle',
      'aria-controls': 'sidebar',
      title: 'Show or hide the room panel',
    },
    h('span', { 'aria-hidden': 'true' }, '☰'),
    h('span', { class: 'tool-label' }, 'Room'),
  );
  const show = (open: boolean) => {
    sidebar.dataset.open = String(open);
    button.setAttribute('aria-expanded', String(open));
  };
  show(window.matchMedia(WIDE_SCREEN).matches);
  button.addEventListener('click', () => show(sidebar.dataset.open !== 'true'));
  return button;
}
