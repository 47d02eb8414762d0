/** HTTP helpers for the admin API tests. */
import type { RoomSnapshot } from '../../../src/document/room-snapshot.js';

export const ADMIN_SECRET = 'admin-secret-for-tests-0123456789';

interface AdminResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined for an empty one. */
  body: unknown;
}

interface AdminRequestOptions {
  method?: string;
  /** Serialised as JSON. */
  json?: unknown;
  /** Sent verbatim (for bodies that are not JSON, or JSON built by hand). */
  raw?: string;
  /** The bearer secret; `null` sends no authorization header. Default {@link ADMIN_SECRET}. */
  secret?: string | null;
  /** Replaces the authorization header entirely. */
  authorization?: string;
}

/** Sends one admin request; `path` is used verbatim (encode room ids yourself). */
export async function admin(
  port: number,
  path: string,
  options: AdminRequestOptions = {},
): Promise<AdminResponse> {
  const headers: Record<string, string> = {};
  const secret = options.secret === undefined ? ADMIN_SECRET : options.secret;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (secret !== null) headers.authorization = `Bearer ${secret}`;
  let body: string | undefined = options.raw;
  if (options.json !== undefined) body = JSON.stringify(options.json);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** `/admin/rooms/<encoded roomId>` plus `suffix`. */
export function roomPath(roomId: string, suffix = ''): string {
  return `/admin/rooms/${encodeURIComponent(roomId)}${suffix}`;
}

/** GET the live document of a room (SPEC D10). */
export async function getDocument(port: number, roomId: string): Promise<RoomSnapshot> {
  const res = await admin(port, roomPath(roomId, '/document'));
  if (res.status !== 200) throw new Error(`GET document answered ${res.status}`);
  return res.body as RoomSnapshot;
}

/** POST a server patch. */
export function postPatches(port: number, roomId: string, patches: unknown): Promise<AdminResponse> {
  return admin(port, roomPath(roomId, '/patches'), { method: 'POST', json: { patches } });
}
