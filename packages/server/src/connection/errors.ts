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

/**
 * Thrown by an `authorize` function to refuse a connection with a specific
 * close code (4000-4999), e.g. `CloseCode.Forbidden` for a token of another
 * room. Any other error refuses with `CloseCode.Unauthorized`.
 *
 * @example
 * ```ts
 * authorize: ({ token }) => { throw new ConnectionRefusedError('token expired', CloseCode.TokenExpired); }
 * ```
 */
export class ConnectionRefusedError extends Error {
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
    this.name = 'ConnectionRefusedError';
  }
}
