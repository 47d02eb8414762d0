import { USER_COLORS } from './palette.js';
import { randomId } from './random-id.js';

/** Who the local user is, as shown to others through presence. */
export interface UserIdentity {
  name: string;
  color: string;
}

/** Everything the page needs to connect, read from the URL and local storage. */
export interface SessionConfig {
  roomId: string;
  token: string;
  /** WebSocket URL of the server (the page's own origin unless `?server=` says otherwise). */
  serverUrl: string;
  /** A fresh id per page load, so duplicated tabs never share one. */
  clientId: string;
  user: UserIdentity;
  /** The user switched this tab offline before reloading it (see {@link saveOfflineChoice}). */
  startOffline: boolean;
}

const NAME_KEY = 'whiteboard.name';
const COLOR_KEY = 'whiteboard.color';

/**
 * Reads the session from the URL: `?roomId=` (the socket's parameter name;
 * `?room=` is accepted as an alias; generated when both are absent), `?token=`
 * (default `dev`, which a development server accepts), `?server=` (WebSocket
 * URL) and `?name=` (overrides the stored name for this tab). The address bar
 * is rewritten to carry `roomId=`, so the link can be shared as it is.
 */
export function readSessionConfig(): SessionConfig {
  const url = new URL(window.location.href);
  let roomId = url.searchParams.get('roomId') || url.searchParams.get('room') || '';
  if (roomId === '') roomId = randomId(8);
  if (url.searchParams.get('roomId') !== roomId || url.searchParams.has('room')) {
    url.searchParams.delete('room');
    url.searchParams.set('roomId', roomId);
    window.history.replaceState(null, '', url);
  }
  const wsOrigin = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/`;
  return {
    roomId,
    token: url.searchParams.get('token') || 'dev',
    serverUrl: url.searchParams.get('server') || wsOrigin,
    clientId: randomId(16),
    user: loadIdentity(url.searchParams.get('name')),
    startOffline: sessionStorage.getItem(offlineKey(roomId)) === 'true',
  };
}

/** The stored name and colour, created ("Guest 123", random colour) on first visit. */
function loadIdentity(nameOverride: string | null): UserIdentity {
  let name = localStorage.getItem(NAME_KEY);
  if (!name) {
    name = `Guest ${100 + Math.floor(Math.random() * 900)}`;
    localStorage.setItem(NAME_KEY, name);
  }
  let color = localStorage.getItem(COLOR_KEY);
  if (!color) {
    color = USER_COLORS[Math.floor(Math.random() * USER_COLORS.length)] ?? USER_COLORS[0];
    localStorage.setItem(COLOR_KEY, color);
  }
  return { name: nameOverride?.trim() || name, color };
}

/** Remembers a new name for the next visits. */
export function saveName(name: string): void {
  localStorage.setItem(NAME_KEY, name);
}

function offlineKey(roomId: string): string {
  return `whiteboard.offline.${roomId}`;
}

/**
 * Remembers (for this tab) that the user switched the room offline, so a
 * reload stays offline and shows the board from IndexedDB until they go online.
 */
export function saveOfflineChoice(roomId: string, offline: boolean): void {
  if (offline) sessionStorage.setItem(offlineKey(roomId), 'true');
  else sessionStorage.removeItem(offlineKey(roomId));
}
