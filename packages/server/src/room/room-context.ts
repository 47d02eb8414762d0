import type { Patch } from 'canvas-store-protocol';
import type { ClockedDocument } from '../document/clocked-document.js';
import type { EphemeralState } from '../document/ephemeral-state.js';
import type { Outbox } from './outbox.js';
import type { Room } from './room.js';
import type { RoomEvents } from './room-events.js';
import type { RoomLimits } from './room-limits.js';
import type { RoomOptions } from './room-options.js';
import type { RoomSessions } from './room-sessions.js';
import type { Session } from './session.js';

/** Frame counters of one room (part of `RoomStats`). */
interface FrameCounters {
  framesReceived: number;
  framesRejected: number;
}

/**
 * What the frame handlers of a room share: the room's state and the few
 * operations that change it. Built once by {@link Room}; internal.
 */
export interface RoomContext {
  /** The public room, handed to user callbacks. */
  readonly room: Room;
  readonly options: RoomOptions;
  readonly limits: RoomLimits;
  readonly ephemeral: EphemeralState;
  readonly outbox: Outbox;
  readonly events: RoomEvents;
  readonly counters: FrameCounters;
  /** The live document; `load()` may replace it before the first write. */
  readonly document: ClockedDocument;
  /**
   * Applies document patches, stages them for storage (and history, authored
   * by `clientId`, `''` for the server) and returns the new clock.
   */
  writeDocument(documentPatches: Patch[], clientId: string): number;
  /** Closes a session's socket with `code` and removes the session. */
  dropSession(session: Session, code: number, reason: string): void;
  /**
   * Closes a session once the frames queued for it so far have left (its final
   * `error` frame, acks held for durability); it takes no frames meanwhile.
   * Not for closes that bound what is queued (B6): those use {@link dropSession}.
   */
  dropAfterQueued(session: Session, code: number, reason: string): void;
}

/** The parts of a room its context is built from. */
interface RoomContextParts
  extends Omit<RoomContext, 'room' | 'document' | 'dropSession' | 'dropAfterQueued'> {
  document(): ClockedDocument;
  sessions: RoomSessions;
}

/** Builds the context the frame handlers of `room` share. */
export function createRoomContext(room: Room, parts: RoomContextParts): RoomContext {
  const { sessions, outbox } = parts;
  return {
    room,
    options: parts.options,
    limits: parts.limits,
    ephemeral: parts.ephemeral,
    outbox,
    events: parts.events,
    counters: parts.counters,
    get document() {
      return parts.document();
    },
    writeDocument: parts.writeDocument,
    dropSession: (session, code, reason) => sessions.drop(session, code, reason),
    dropAfterQueued: (session, code, reason) => {
      session.beginClosing();
      outbox.afterQueued(() => sessions.drop(session, code, reason));
    },
  };
}
