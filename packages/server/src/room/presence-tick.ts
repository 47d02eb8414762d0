import type { ComponentData, Patch } from 'canvas-store-protocol';
import type { Outbox } from './outbox.js';
import { type EphemeralView, PresenceChanges } from './presence-changes.js';
import { fanOut, PATCH_HEAD } from './presence-fan-out.js';
import { presenceSettings, type RoomOptions } from './room-options.js';
import type { Session } from './session.js';

/** Default presence tick, in ms (SPEC R1). */
export const DEFAULT_PRESENCE_TICK_MS = 50;
/** Default per-recipient byte budget of coalesced presence, in bytes per second (256 KiB/s). */
export const DEFAULT_PRESENCE_BYTES_PER_SECOND = 256 * 1024;

/** What one tick did, for metrics. */
export interface PresenceTickReport {
  /** Updates folded into a later one of the same key. */
  coalescedUpdates: number;
  /** Bytes the uncoalesced frames would have had, minus the bytes sent (never negative). */
  bytesSaved: number;
}

/** Settings of a {@link PresenceTick}. */
export interface PresenceTickOptions {
  /** The shortest time between two ticks, in ms (> 0). */
  tickMs: number;
  /** Per-recipient byte budget; the tick stretches so that a recipient gets at most this many bytes per second. */
  bytesPerSecond: number;
  /**
   * No timer: the tick only gathers what arrives while frames are held for
   * durability and sends it once they have left (coalescing off, SPEC B6).
   */
  onlyWhileHeld?: boolean;
  /** No timer: sends only when {@link PresenceTick.flush} is called (one recipient behind, flushed once it caught up). */
  manual?: boolean;
}

/**
 * Where the tick learns that frames are held until earlier writes are durable
 * (SPEC O4): implemented by the {@link Outbox}.
 */
export interface PresenceHold {
  /** True while a frame sent now would be held. */
  holding(): boolean;
  /** Runs `run` once every frame queued so far has left (at once when none is held). */
  afterQueued(run: () => void): void;
}

/**
 * Presence coalescing (SPEC R1, R2): ephemeral-only updates and client counts
 * are gathered and sent at most once per tick, as one `patch` frame with
 * `clientId: ''` holding the latest value of every changed key, and one
 * `clientCount` frame with the latest count.
 *
 * Values are read from the room's ephemeral state when the tick fires, not
 * kept from the updates: whatever a recipient got before (including an
 * ephemeral part that travelled with a document write) is never followed by
 * an older value, and a departure's `{ _exists: false }` cannot be overtaken.
 * Most recipients get the same frame, serialised once; only the sessions that
 * wrote this tick get a copy without their own changes ({@link fanOut}).
 *
 * The tick stretches with the frame size so that each recipient gets at most
 * `bytesPerSecond`: the next tick waits `max(tickMs, 1000 × bytes of the last tick ÷ bytesPerSecond)` ms.
 */
export class PresenceTick {
  private readonly changes: PresenceChanges;
  /** Sessions that joined since the last tick, with the change counter at their join. */
  private readonly newcomers = new Map<Session, number>();
  private countPending = false;
  private coalesced = 0;
  private uncoalescedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastTickAt = Number.NEGATIVE_INFINITY;
  private interval: number;
  private stopped = false;
  /** A tick waits behind held frames (one callback queued in the hold). */
  private deferred = false;

  /** The presence tick of a room built from its options; null when coalescing is off (`presenceTickMs: 0`). */
  static forRoom(
    options: RoomOptions,
    sessions: ReadonlyMap<string, Session>,
    ephemeral: EphemeralView,
    outbox: Outbox,
    onTick: (report: PresenceTickReport) => void,
  ): PresenceTick | null {
    const settings = presenceSettings(options);
    if (!settings) {
      // Coalescing off: a recipient behind gets its presence folded until it caught up.
      outbox.foldBehind(
        (session) =>
          new PresenceTick(
            new Map([[session.sessionId, session]]),
            ephemeral,
            (recipient, text) => outbox.deliver(recipient, text),
            { tickMs: 0, bytesPerSecond: DEFAULT_PRESENCE_BYTES_PER_SECOND, manual: true },
            onTick,
            outbox,
          ),
      );
    }
    // Coalescing off and nothing ever held: every update leaves at once, as the published server does.
    if (!settings && !outbox.canHold) return null;
    const tick = new PresenceTick(
      sessions,
      ephemeral,
      (session, text) => outbox.deliver(session, text),
      settings ?? { tickMs: 0, bytesPerSecond: DEFAULT_PRESENCE_BYTES_PER_SECOND, onlyWhileHeld: true },
      onTick,
      outbox,
    );
    outbox.coalescePresence(tick, settings === null);
    return tick;
  }

  constructor(
    private readonly sessions: ReadonlyMap<string, Session>,
    ephemeral: EphemeralView,
    /** Sends one frame's text to one session, through the outbox (which keeps O2-O4). */
    private readonly deliver: (session: Session, text: string) => void,
    private readonly options: PresenceTickOptions,
    private readonly onTick: (report: PresenceTickReport) => void,
    /** Frames held for durability: a tick waits behind them instead of adding to them (SPEC B6). */
    private readonly hold?: PresenceHold,
  ) {
    this.interval = options.tickMs;
    this.changes = new PresenceChanges(ephemeral);
  }

  /** Keys changed and client counts waiting for the next tick. */
  get pending(): number {
    return this.changes.size + (this.countPending ? 1 : 0);
  }

  /** The current time between ticks, in ms: `tickMs`, or more when the byte budget asks for it. */
  get currentIntervalMs(): number {
    return this.interval;
  }

  /**
   * Records an ephemeral-only update of `owner` (already applied to the state)
   * made by `author` (null for the server: a departure, SPEC E3).
   */
  ephemeralChanged(author: Session | null, owner: string, patches: readonly Patch[]): void {
    if (this.stopped) return;
    if (!this.options.manual) {
      // What the uncoalesced broadcast would have cost, for the bytes-saved estimate
      // (not per recipient behind: that would serialise every update once per such recipient).
      const frameBytes = JSON.stringify(patches).length + PATCH_HEAD.length + owner.length + 4;
      this.uncoalescedBytes += frameBytes * Math.max(0, this.sessions.size - (author ? 1 : 0));
    }
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        if (this.changes.record(author, owner, key, patch[key] as ComponentData)) this.coalesced++;
      }
    }
    this.schedule();
  }

  /**
   * Records a join: the session was just sent the current presence (E2), so
   * changes recorded before now are left out of its first tick.
   */
  sessionJoined(session: Session): void {
    // Only changes pending now are left out for it; with none, every later change is newer anyway.
    if (!this.stopped && this.changes.size > 0) this.newcomers.set(session, this.changes.seq);
  }

  /** Records that the session count changed (SPEC R2). */
  clientCountChanged(): void {
    if (this.stopped) return;
    if (this.countPending) this.coalesced++;
    this.countPending = true;
    this.uncoalescedBytes += (30 + String(this.sessions.size).length) * this.sessions.size;
    this.schedule();
  }

  /**
   * Sends what is pending now, or, while frames are held for durability,
   * once they have left: a tick's frames would only wait behind them, and
   * a tick per interval would pile up a frame per recipient each time
   * (SPEC B6). Meanwhile updates keep folding into the pending values.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    if (this.hold?.holding()) this.deferBehindHeld();
    else this.send();
  }

  private deferBehindHeld(): void {
    const hold = this.hold;
    if (this.deferred || !hold) return;
    this.deferred = true;
    hold.afterQueued(() => {
      this.deferred = false;
      this.send();
    });
  }

  /** Sends what is pending to every session (through the outbox, behind anything queued before). */
  private send(): void {
    if (this.stopped) return;
    this.lastTickAt = Date.now();
    let sentBytes = 0;
    let largest = 0;
    if (this.changes.size > 0) {
      const fragments = this.changes.take();
      ({ sentBytes, largest } = fanOut(fragments, this.sessions.values(), this.newcomers, this.deliver));
    }
    this.newcomers.clear();
    if (this.countPending) {
      this.countPending = false;
      const text = JSON.stringify({ type: 'clientCount', count: this.sessions.size });
      for (const session of this.sessions.values()) this.deliver(session, text);
      sentBytes += text.length * this.sessions.size;
      largest += text.length;
    }
    // The byte budget (per recipient per second) stretches the next tick.
    this.interval = Math.max(this.options.tickMs, Math.ceil((largest * 1000) / this.options.bytesPerSecond));
    // A tick that sent nothing (only ignored writes, or nobody to send to) is not reported.
    if (sentBytes === 0) return;
    const report = {
      coalescedUpdates: this.coalesced,
      bytesSaved: Math.max(0, this.uncoalescedBytes - sentBytes),
    };
    this.coalesced = 0;
    this.uncoalescedBytes = 0;
    this.onTick(report);
  }

  /** Forgets what is pending and stops ticking (the room is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.changes.clear();
    this.newcomers.clear();
  }

  private schedule(): void {
    if (this.options.manual) return;
    if (this.options.onlyWhileHeld) {
      this.deferBehindHeld();
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastTickAt + this.interval - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }
}
