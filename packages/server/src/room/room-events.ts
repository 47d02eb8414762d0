import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { RoomObserver } from './room-observer.js';
import type { Session } from './session.js';

/**
 * Where a room reports what happened: metrics hooks, user callbacks and
 * limit hits. Every callback is guarded, so user code that throws is logged
 * and never disturbs the room.
 */
export class RoomEvents {
  private readonly limitLog: RateLimitedLog;

  constructor(
    private readonly observer: RoomObserver | undefined,
    readonly logger: Logger,
    readonly logContext: { roomId?: string },
  ) {
    this.limitLog = new RateLimitedLog(logger);
  }

  /** Calls one metrics hook, if an observer is set. */
  observe(hook: (observer: RoomObserver) => void): void {
    const observer = this.observer;
    if (observer) this.callback('observer', () => hook(observer));
  }

  /** Runs user code, logging (not throwing) what it throws. */
  callback(name: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logger.error({ ...this.logContext, err: error }, `${name} callback threw`);
    }
  }

  /** Counts a limit or quota a session hit and logs it at a bounded rate. */
  limitHit(session: Session, limit: string, message: string): void {
    this.observe((o) => o.limitHit?.(limit));
    this.limitLog.log(
      limit,
      { ...this.logContext, sessionId: session.sessionId, clientId: session.clientId },
      message,
    );
  }
}
