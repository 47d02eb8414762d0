import type { ComponentData, Patch } from 'canvas-store-protocol';
import type { DocumentView } from './client-events.js';
import { ConfirmedState } from './confirmed-state.js';
import { deepEqual } from './deep-equal.js';
import { type FrameBudget, splitByBudget } from './frame-budget.js';
import {
  applyEdit,
  mergePendingPatches,
  type PendingEdit,
  type PendingPatch,
  toWirePatches,
} from './merge-patches.js';
import { OfflineBuffer } from './offline-buffer.js';

/**
 * The document as this client sees it: the server-confirmed state overlaid
 * with every edit the server has not confirmed yet, oldest first:
 *
 * 1. edits sent in the `reconnect` frame (confirmed by the reconnect reply),
 * 2. writes in flight, by `messageId`, in send order (confirmed by their `ack`),
 * 3. the {@link OfflineBuffer} of edits not sent yet.
 *
 * Broadcasts are applied to the confirmed state in server order; a field this
 * client is still writing keeps showing the local value because the in-flight
 * layer covers it, and once the `ack` arrives the write is applied on top of
 * the broadcast, as the server did (SPEC O2).
 */
export class LocalDocument {
  readonly confirmed: ConfirmedState;
  readonly buffer = new OfflineBuffer();
  private sentWithReconnect: PendingPatch | null = null;
  private readonly inFlight = new Map<string, PendingPatch>();
  private readonly view = new Map<string, ComponentData>();

  /** @param onConfirmedKeyChanged called for each confirmed key that changed (for persistence). */
  constructor(onConfirmedKeyChanged?: (key: string) => void) {
    this.confirmed = new ConfirmedState(onConfirmedKeyChanged);
  }

  /** The local view: live keys only. */
  get document(): DocumentView {
    return this.view;
  }

  /** The local view of one key. */
  get(key: string): ComponentData | undefined {
    return this.view.get(key);
  }

  /** True while edits sent with the current `reconnect` frame await its reply. */
  get awaitingReconnectReply(): boolean {
    return this.sentWithReconnect !== null;
  }

  /** Number of writes sent and not yet acknowledged. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Adds local edits to the buffer. Returns the keys whose view changed. */
  edit(patch: PendingPatch): string[] {
    this.buffer.addAll(patch);
    return this.refresh(patch.keys());
  }

  /**
   * Moves the buffer into the `reconnect` frame and returns its wire patches.
   * A buffer over `budget` stays put (it is sent in parts once synced) and
   * the result is empty, as it is for an empty buffer.
   */
  takeForReconnect(budget: FrameBudget): Patch[] {
    const fits = splitByBudget(this.buffer.current, budget, 2).length <= 1;
    const taken: PendingPatch = fits ? this.buffer.take() : new Map();
    this.sentWithReconnect = taken;
    return toWirePatches(taken);
  }

  /**
   * Moves buffered edits, as many as fit `budget`, into write frame
   * `messageId` and returns its wire patches (empty when nothing is buffered).
   */
  takeForWrite(messageId: string, budget: FrameBudget): Patch[] {
    const [part] = splitByBudget(this.buffer.current, budget, 1);
    if (!part || part.size === 0) return [];
    this.buffer.remove(part.keys());
    this.inFlight.set(messageId, part);
    return toWirePatches(part);
  }

  /** Tracks an extra write frame (a resync answer) and returns its wire patches. */
  trackWrite(messageId: string, patch: PendingPatch): Patch[] {
    this.inFlight.set(messageId, patch);
    return toWirePatches(patch);
  }

  /**
   * Number of keys with an edit the server has not confirmed (sent or not).
   * Cheaper than `unconfirmed().size`: it only unions the layers' keys.
   */
  unconfirmedKeyCount(): number {
    const keys = new Set<string>();
    for (const layer of this.layers()) for (const key of layer.keys()) keys.add(key);
    return keys.size;
  }

  /** Every unconfirmed edit (sent or not) merged into one, oldest first. */
  unconfirmed(): PendingPatch {
    return mergePendingPatches(...this.layers());
  }

  /**
   * The answer to a `resync` (SPEC D8): every confirmed field stamped after
   * `since`, overlaid with every unconfirmed edit. The buffer is emptied into
   * it; track it with {@link trackWrite}.
   */
  resyncAnswer(since: number): PendingPatch {
    const answer = mergePendingPatches(this.confirmed.changesSince(since), ...this.layers());
    this.buffer.take();
    return answer;
  }

  /**
   * The socket closed: writes sent but not confirmed go back to the front of
   * the buffer to be sent again (at-least-once; re-applying is idempotent).
   * The view does not change.
   */
  requeueUnconfirmed(): void {
    const sent = [this.sentWithReconnect ?? new Map(), ...this.inFlight.values()];
    this.sentWithReconnect = null;
    this.inFlight.clear();
    this.buffer.prepend(...sent);
  }

  /** Applies a broadcast write of the server at clock `stamp`. Returns the keys whose view changed. */
  applyBroadcast(patches: readonly Patch[], stamp: number): string[] {
    const touched = this.confirmed.applyPatches(patches, stamp);
    this.confirmed.clock = Math.max(this.confirmed.clock, stamp);
    return this.refresh(touched);
  }

  /**
   * Our write `messageId` was acknowledged at clock `stamp`. When `applied` it
   * joins the confirmed state; otherwise (a read-only session) it is dropped.
   * Returns the keys whose view changed.
   */
  acknowledge(messageId: string, stamp: number, applied: boolean): string[] {
    const patch = this.inFlight.get(messageId);
    if (!patch) return [];
    this.inFlight.delete(messageId);
    if (applied) {
      this.confirmed.applyPatches(toWirePatches(patch), stamp);
      this.confirmed.clock = Math.max(this.confirmed.clock, stamp);
    }
    return this.refresh(patch.keys());
  }

  /**
   * Applies the reply to our `reconnect` (SPEC D7) and the `synced` clock.
   * Its patches apply in order (D2): the server sends a key created since our
   * clock as a tombstone followed by its fields, so nothing stale survives.
   * `complete` replies (asked with `lastTimestamp: 0`) replace the whole
   * confirmed state. The edits sent with the reconnect frame are now part of
   * it. Returns the keys whose view changed.
   */
  applyReconnectReply(reply: readonly Patch[], clock: number, complete: boolean): string[] {
    const sent = this.sentWithReconnect ?? new Map<string, PendingEdit>();
    const keys = new Set<string>(sent.keys());
    this.sentWithReconnect = null;
    let touched: Set<string>;
    if (complete) touched = this.confirmed.replaceAll(Object.assign({}, ...reply), clock);
    else touched = this.confirmed.applyIncrementalReply(reply, clock, createdKeys(sent));
    this.confirmed.clock = clock;
    for (const key of touched) keys.add(key);
    return this.refresh(keys);
  }

  /** Loads persisted state: confirmed entries and unconfirmed edits older than anything buffered. */
  restore(entries: readonly unknown[], clock: number, pending: PendingPatch): string[] {
    this.confirmed.restore(entries, clock);
    this.buffer.prepend(pending);
    return this.rebuild();
  }

  /** Recomputes the view of `keys`; returns those whose value changed. */
  refresh(keys: Iterable<string>): string[] {
    const changed: string[] = [];
    for (const key of keys) {
      const next = this.compute(key);
      const previous = this.view.get(key);
      if (next === undefined) {
        if (this.view.delete(key)) changed.push(key);
      } else if (previous === undefined || !deepEqual(previous, next)) {
        this.view.set(key, next);
        changed.push(key);
      }
    }
    return changed;
  }

  /** Recomputes the whole view; returns the keys whose value changed. */
  rebuild(): string[] {
    const keys = new Set<string>(this.view.keys());
    for (const key of this.confirmed.keys()) keys.add(key);
    for (const layer of this.layers()) for (const key of layer.keys()) keys.add(key);
    return this.refresh(keys);
  }

  private compute(key: string): ComponentData | undefined {
    let value = this.confirmed.get(key);
    for (const layer of this.layers()) {
      const edit = layer.get(key);
      if (edit) value = applyEdit(value, edit);
    }
    return value;
  }

  private *layers(): Generator<ReadonlyMap<string, PendingEdit>> {
    if (this.sentWithReconnect) yield this.sentWithReconnect;
    yield* this.inFlight.values();
    yield this.buffer.current;
  }
}

/** Keys an edit writes with `_exists: true` (a creation or a re-creation), as the server sees the frame. */
function createdKeys(patch: ReadonlyMap<string, PendingEdit>): Set<string> {
  const created = new Set<string>();
  for (const [key, edit] of patch) if (edit.data._exists === true) created.add(key);
  return created;
}
