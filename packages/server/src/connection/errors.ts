/** Why a connect URL was refused: a stable code for each case (SPEC C1). */
export type ConnectRequestErrorCode =
  | 'missing-room-id'
  | 'missing-client-id'
  | 'missing-token'
  | 'invalid-url';

/**
 * A connect URL lacks `roomId`, `clientId` or `token`, or cannot be parsed.
 *
 * @example
 * ```ts
 * try { parseConnectUrl('/?roomId=a'); } catch (e) { if (e instanceof ConnectRequestError) console.log(e.code); }
 * ```
 */
export class ConnectRequestError extends Error {
  constructor(
    message: string,
    readonly code: ConnectRequestErrorCode,
  ) {
    super(message);
    this.name = 'ConnectRequestError';
  }
}

/** The socket closed before its connection was ready; the session was never created (or was removed). */
export class ConnectionClosedError extends Error {
  constructor() {
    super('connection closed before it was ready');
    this.name = 'ConnectionClosedError';
  }
}
