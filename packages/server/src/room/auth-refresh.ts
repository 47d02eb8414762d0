import { type AuthRefreshRequest, CloseCode } from 'canvas-store-protocol';
import type { RoomContext } from './room-context.js';
import {
  isSessionPermission,
  type Session,
  type SessionTokenRefresher,
  type TokenRefreshResult,
} from './session.js';

/**
 * Handles an `auth-refresh` frame (SPEC C5, O1): the session is paused until
 * the verdict, which may change its permissions; a refusal closes it.
 * `resume` processes the frames that arrived meanwhile.
 */
export function handleAuthRefresh(
  ctx: RoomContext,
  session: Session,
  frame: AuthRefreshRequest,
  resume: (session: Session) => void,
): void {
  const roomRefresh = ctx.options.onTokenRefresh;
  const refresh: SessionTokenRefresher | undefined =
    session.refreshToken ??
    (roomRefresh
      ? (token) => roomRefresh(ctx.room, { sessionId: session.sessionId, clientId: session.clientId, token })
      : undefined);
  if (!refresh) {
    ctx.outbox.sendError(session, {
      code: 'auth-refresh-unsupported',
      message: 'this room does not accept auth-refresh frames',
    });
    return;
  }
  // O1: frames after the refresh wait for its verdict, which may change permissions.
  session.pause();
  const onRefused = (error: unknown) => {
    ctx.events.logger.warn(
      { ...ctx.events.logContext, sessionId: session.sessionId, err: error },
      'auth-refresh refused',
    );
    ctx.dropSession(session, CloseCode.Forbidden, 'auth refresh refused');
  };
  let outcome: TokenRefreshResult | Promise<TokenRefreshResult>;
  try {
    outcome = refresh(frame.token);
  } catch (error) {
    onRefused(error);
    return;
  }
  Promise.resolve(outcome).then(
    (result) => {
      if (session.closed) return;
      if (!result || !isSessionPermission(result.permissions)) {
        onRefused(new TypeError('token refresh returned no valid permissions'));
        return;
      }
      session.permissions = result.permissions;
      if (result.metadata !== undefined) session.metadata = result.metadata;
      resume(session);
    },
    (error: unknown) => {
      if (!session.closed) onRefused(error);
    },
  );
}
