import { isStorableName } from 'canvas-store-protocol';
import { ConnectRequestError } from './errors.js';

/** The identity a client presents when it connects. */
export interface ConnectParams {
  roomId: string;
  clientId: string;
  token: string;
}

/** Longest accepted `roomId` or `clientId`, in characters. */
export const MAX_ID_LENGTH = 512;

// Only used to resolve path-and-query inputs; never contacted.
const PLACEHOLDER_BASE = 'ws://placeholder.invalid';

/**
 * Pulls `{ roomId, clientId, token }` out of a connect URL: a full URL
 * (`wss://host/path?…`) or a path-and-query (`/?…`) (SPEC C1).
 *
 * @throws {@link ConnectRequestError} with code `missing-room-id`,
 *   `missing-client-id`, `missing-token` or `invalid-url` (also for ids longer
 *   than {@link MAX_ID_LENGTH} or holding a NUL character or unpaired surrogate).
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
  if (!roomId)
    throw new ConnectRequestError('connect URL lacks the roomId query parameter', 'missing-room-id');
  const clientId = params.get('clientId');
  if (!clientId)
    throw new ConnectRequestError('connect URL lacks the clientId query parameter', 'missing-client-id');
  const token = params.get('token');
  if (!token) throw new ConnectRequestError('connect URL lacks the token query parameter', 'missing-token');
  for (const [name, value] of [
    ['roomId', roomId],
    ['clientId', clientId],
  ] as const) {
    if (value.length > MAX_ID_LENGTH) {
      throw new ConnectRequestError(`${name} is longer than ${MAX_ID_LENGTH} characters`, 'invalid-url');
    }
    // Ids are stored as text by every backend; these could not be read back exactly.
    if (!isStorableName(value)) {
      throw new ConnectRequestError(`${name} holds a NUL character or an unpaired surrogate`, 'invalid-url');
    }
  }
  return { roomId, clientId, token };
}
