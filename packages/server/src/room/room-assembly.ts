import { CloseCode, type Patch } from 'canvas-store-protocol';
import { ClockedDocument } from '../document/clocked-document.js';
import { EphemeralState } from '../document/ephemeral-state.js';
import { FrameIntake } from './frame-intake.js';
import { consoleLogger } from './logger.js';
import { Outbox } from './outbox.js';
import { PresenceTick } from './presence-tick.js';
import type { Room } from './room.js';
import { RoomClosing } from './room-closing.js';
import { createRoomContext, type RoomContext } from './room-context.js';
import { RoomEvents } from './room-events.js';
import { RoomHistoryAccess } from './room-history-access.js';
import { resolveRoomLimits } from './room-limits.js';
import type { RoomOptions } from './room-options.js';
import { openRoomPersistence, type RoomPersistence } from './room-persistence.js';
import { RoomSessions } from './room-sessions.js';
import type { Session } from './session.js';

/** The room's live document; `load()` replaces it before the first write. */
export interface LiveDocument {
  current: ClockedDocument;
}

/** The parts one {@link Room} is made of, wired together by {@link assembleRoom}; internal. */
export interface RoomParts {
  readonly document: LiveDocument;
  readonly events: RoomEvents;
  /** Undefined for a room without storage. */
  readonly persistence: RoomPersistence | undefined;
  readonly outbox: Outbox;
  /** Null when presence is neither coalesced nor ever held (the published server's behaviour). */
  readonly presence: PresenceTick | null;
  readonly sessions: RoomSessions;
  /** What the frame handlers and the server's own writes share. */
  readonly context: RoomContext;
  /** The way in of every client frame. */
  readonly intake: FrameIntake;
  readonly historyAccess: RoomHistoryAccess;
  readonly closing: RoomClosing;
  readonly counters: { framesReceived: number; framesRejected: number };
}

/**
 * Builds the parts of `room` from its options and wires them together: the
 * persistence (and its durability gate) first, then the outbox that consults
 * it, the presence tick the outbox hands presence to, the sessions, and the
 * context the frame handlers share.
 *
 * The order is the one options are checked in: bad limits throw before a bad
 * initial snapshot, which throws before a bad save throttle.
 */
export function assembleRoom(room: Room, options: RoomOptions): RoomParts {
  const limits = resolveRoomLimits(options.limits);
  const logger = options.logger ?? consoleLogger;
  const logContext = options.roomId === undefined ? {} : { roomId: options.roomId };
  const events = new RoomEvents(options.observer, logger, logContext);
  const document: LiveDocument = {
    current: options.initialSnapshot
      ? ClockedDocument.fromSnapshot(options.initialSnapshot)
      : new ClockedDocument(),
  };
  const persistence = openRoomPersistence(
    options,
    () => document.current,
    logger,
    logContext,
    (event) => events.observe((o) => o.commitFinished?.(event.durationMs, event.components, event.ok)),
  );
  const ephemeral = new EphemeralState();
  // Shared by the outbox (which broadcasts to them) and the sessions (which add and remove them).
  const byId = new Map<string, Session>();
  const outbox = new Outbox(
    byId,
    persistence?.gate,
    (session, error) => {
      logger.warn({ ...logContext, sessionId: session.sessionId, err: error }, 'send failed');
      sessions.drop(session, CloseCode.GoingAway, 'send failed');
    },
    (frames, bytes) => events.observe((o) => o.framesHeld?.(frames, bytes)),
  );
  const presence = PresenceTick.forRoom(options, byId, ephemeral, outbox, (report) =>
    events.observe((o) => o.presenceTick?.(report.coalescedUpdates, report.bytesSaved)),
  );
  const sessions = new RoomSessions(byId, room, options, ephemeral, outbox, events, limits);
  const counters = { framesReceived: 0, framesRejected: 0 };
  const writeDocument = (documentPatches: Patch[], clientId: string): number => {
    if (persistence) return persistence.applyWrite(document.current, documentPatches, clientId);
    return document.current.applyPatches(documentPatches) as number;
  };
  const context = createRoomContext(room, {
    options,
    limits,
    ephemeral,
    outbox,
    events,
    counters,
    document: () => document.current,
    writeDocument,
    sessions,
  });
  const historyAccess = new RoomHistoryAccess({
    history: () => persistence?.history,
    clock: () => document.current.clock,
    live: () => ({ timestamp: document.current.clock, components: document.current.readAllComponents() }),
    flush: () => room.flush(),
  });
  const closing = new RoomClosing({ presence, outbox, sessions, persistence });
  const intake = new FrameIntake(context);
  return {
    document,
    events,
    persistence,
    outbox,
    presence,
    sessions,
    context,
    intake,
    historyAccess,
    closing,
    counters,
  };
}
