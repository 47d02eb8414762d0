/**
 * WebSocket close codes used by the server. 1000-1015 are the standard codes;
 * 4000-4999 are ours. They are stable: clients may branch on them.
 *
 * @example
 * ```ts
 * socket.close(CloseCode.RateLimited, 'too many frames');
 * ```
 */
export const CloseCode = {
  /** The room or the server is shutting down; reconnect later. */
  GoingAway: 1001,
  /**
   * The node serving the session is handing the room over, lost its link to the
   * room's owner, or stopped (cluster mode): reconnect, to any node.
   */
  ServiceRestart: 1012,
  /** A frame exceeded the configured maximum size. */
  FrameTooLarge: 1009,
  /** The connect URL lacked `roomId`, `clientId` or `token`, or could not be parsed. */
  BadRequest: 4400,
  /** Authorization failed at connect time. */
  Unauthorized: 4401,
  /** The token does not grant access to this room, or an `auth-refresh` was refused. */
  Forbidden: 4403,
  /** The session's token expired. */
  TokenExpired: 4405,
  /** The connection did not finish its upgrade and authorization within the handshake timeout. */
  HandshakeTimeout: 4408,
  /** The session kept sending invalid frames. */
  InvalidFrames: 4406,
  /** The session sent frames or bytes faster than its rate limit. */
  RateLimited: 4429,
  /** The room already holds its maximum number of sessions. */
  RoomFull: 4430,
  /** The process already holds its maximum number of rooms. */
  TooManyRooms: 4431,
  /** The token's subject already holds its quota of connections or distinct rooms. */
  TooManyForPrincipal: 4439,
  /** The session sent too much before its connection was ready. */
  TooManyPendingFrames: 4432,
  /** The client stopped reading and its unsent bytes passed the bound. */
  SlowConsumer: 4433,
  /** The room's storage could not load it; retry later. */
  RoomUnavailable: 4503,
} as const;

/** One of the values of {@link CloseCode}. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];
