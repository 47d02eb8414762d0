/**
 * The soak oracle: the run's failure list and {@link RoomModel}, which replays
 * one room's acked writes in clock order and checks each reconnect reply
 * against them (SPEC D1, D7).
 */
import { ReferenceDoc } from '../reference-doc.js';
import {
  applyPatches,
  type Component,
  cloneState,
  type DocState,
  diffStates,
  type Patch,
} from './doc-state.js';

/** Everything that went wrong during the run (asserted empty by the test). */
export class Failures {
  readonly list: string[] = [];
  count = 0;

  add(message: string): void {
    this.count++;
    // Keep the first ones for the report; a broken run can produce thousands.
    if (this.list.length < 50) this.list.push(message);
  }
}

/** The state at a clock, known when the replay reached it. */
export interface KnownState {
  at: number;
  state: DocState;
}

interface Fence {
  floor: number;
}

interface SyncCheck {
  what: string;
  prior: KnownState | null;
  reply: Patch[];
  onChecked?: (state: KnownState, ok: boolean) => void;
}

/**
 * One room's acked writes, replayed in clock order. Every acked document
 * write is registered with its ack's timestamp (SPEC D1: each write frame
 * takes the next clock value, so timestamps are unique and leave no gap).
 * A reconnect reply is checked when the replay reaches its `synced` clock.
 *
 * Replies and acks arrive on different sockets in any order, so the replay
 * must not run past a reply's clock before the reply arrived: a reconnect
 * about to be sent opens a {@link Fence} at the highest timestamp acked so
 * far, which its clock cannot be below (that write was handled before the
 * reconnect was sent), and the replay stops there until the reply arrives.
 */
export class RoomModel {
  /** The server's document after the writes stamped 1..{@link replayed}: the one reference model. */
  private readonly document = new ReferenceDoc();
  replayed = 0;
  maxAcked = 0;
  writesAcked = 0;
  checksPassed = 0;
  private readonly pending = new Map<number, Patch[]>();
  private readonly fences = new Set<Fence>();
  private readonly checks = new Map<number, SyncCheck[]>();

  constructor(
    readonly roomId: string,
    private readonly failures: Failures,
  ) {}

  /** An acked document write (or the writes of a reconnect frame, at its `synced` clock). */
  acked(timestamp: number, patches: Patch[], what: string): void {
    if (!Number.isSafeInteger(timestamp) || timestamp <= this.replayed || this.pending.has(timestamp)) {
      this.failures.add(`[D1] ${this.roomId}: ${what} acked with timestamp ${timestamp}, already taken`);
      return;
    }
    this.pending.set(timestamp, patches);
    this.writesAcked++;
    if (timestamp > this.maxAcked) this.maxAcked = timestamp;
    this.advance();
  }

  openFence(): Fence {
    const fence = { floor: this.maxAcked };
    this.fences.add(fence);
    return fence;
  }

  closeFence(fence: Fence): void {
    if (this.fences.delete(fence)) this.advance();
  }

  /**
   * Checks a reconnect reply once the replay reaches `synced`: `prior` (the
   * client's state at its `lastTimestamp`; null for 0) with the reply's
   * document patches applied must equal the model there (SPEC D7).
   */
  expectReply(fence: Fence, synced: number, check: SyncCheck): void {
    if (synced < this.replayed) {
      this.failures.add(
        `[D7] ${this.roomId}: ${check.what} synced at ${synced}, below writes acked before it asked (${this.replayed})`,
      );
    } else {
      const list = this.checks.get(synced) ?? [];
      list.push(check);
      this.checks.set(synced, list);
    }
    this.closeFence(fence);
  }

  /** Replays acked writes in clock order up to the lowest open fence, running checks on the way. */
  private advance(): void {
    for (;;) {
      this.runChecks();
      let limit = Number.POSITIVE_INFINITY;
      for (const fence of this.fences) limit = Math.min(limit, fence.floor);
      if (this.replayed >= limit) return;
      const next = this.pending.get(this.replayed + 1);
      if (!next) return;
      this.pending.delete(this.replayed + 1);
      this.document.applyFrame(next);
      this.replayed++;
    }
  }

  private runChecks(): void {
    const due = this.checks.get(this.replayed);
    if (!due) return;
    this.checks.delete(this.replayed);
    for (const check of due) {
      const state = this.document.components();
      const seen = check.prior ? cloneState(check.prior.state) : new Map<string, Component>();
      applyPatches(seen, check.reply);
      const diff = diffStates(state, seen);
      const ok = diff.length === 0;
      if (ok) this.checksPassed++;
      else {
        this.failures.add(
          `[D7] ${this.roomId}: ${check.what} (lastTimestamp ${check.prior?.at ?? 0}, synced ${this.replayed}) ` +
            `does not match the acked writes:\n  ${diff.join('\n  ')}`,
        );
      }
      check.onChecked?.({ at: this.replayed, state }, ok);
    }
  }

  /** Acked writes not replayed yet (a gap in the clock values) and replies not checked yet. */
  outstanding(): { pendingWrites: number; pendingChecks: number } {
    let pendingChecks = 0;
    for (const list of this.checks.values()) pendingChecks += list.length;
    return { pendingWrites: this.pending.size, pendingChecks };
  }
}
