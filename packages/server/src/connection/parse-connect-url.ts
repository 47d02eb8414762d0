import { ConnectRequestError } from './errors.js';

/** The identity a client presents when it connects. */
export interface ConnectParams {
  roomId: string;
  clientId: string;
  token: string;
}

// Only used to resolve path-and-query inputs; never contacted.
const PLACEHOLDER_BASE = 'ws://placeholder.invalid';

/**
 * Pulls `{ roomId, clientId, token }` out of a connect URL: a full URL
 * (`wss://host/path?…`) or a path-and-query (`/?…`) (SPEC C1).
 *
 * @throws {@link ConnectRequestError} with code `missing-room-id`,
 *   `missing-client-id`, `missing-token` or `invalid-url`.
 *
 * @example
 * ```ts
 * parseConnectUrl('/?roomId=r1&clientId=c1&token=t'); // { roomId: 'r1', clientId: 'c1', token: 't' }
 * ```
 */
export function parseConnectUrl(input: string): ConnectParams {
  if (typeof input !== 'string') throw new ConnectRequestError('connect URL must be a string', 'invalid-url');
  let url: URL;
  try {
    url = new URL(input, PLACEHOLDER_BASE);
  } catch {
    throw new ConnectRequestError('connect URL cannot be parsed', 'invalid-url');
  }
  const params = url.searchParams;
  const roomId = params.get('roomId');
  if (!roomId) throw new ConnectRequestError('connect URL has no roomId', 'missing-room-id');
  const clientId = params.get('clientId');
  if (!clientId) throw new ConnectRequestError('connect URL has no clientId', 'missing-client-id');
  const token = params.get('token');
  if (!token) throw new ConnectRequestError('connect URL has no token', 'missing-token');
  return { roomId, clientId, token };
}
