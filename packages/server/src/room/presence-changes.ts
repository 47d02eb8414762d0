import type { ComponentData } from 'canvas-store-protocol';
import type { Fragment } from './presence-fan-out.js';
import type { Session } from './session.js';

/** How the presence tick reads the room's current ephemeral state. */
export interface EphemeralView {
  /** The live fields of `owner`'s key `key`, or undefined when it holds no such key. */
  fieldsOf(owner: string, key: string): Readonly<Record<string, unknown>> | undefined;
}

/** One ephemeral key changed since the last tick. */
interface Change {
  readonly owner: string;
  readonly key: string;
  /** Deleted at some point in this tick: recipients get `{ _exists: false }` first. */
  deleted: boolean;
  /** The fields written this tick; null means the whole component (it was created again after a deletion). */
  fields: Set<string> | null;
  /**
   * The one session that wrote this key this tick, which is not sent its own
   * value (SPEC A3); null when none did (a departure, E3), 'many' when several did.
   */
  author: Session | null | 'many';
  /** When it last changed, to leave it out for sessions that joined after (their snapshot had it). */
  seq: number;
}

/**
 * The ephemeral keys changed since the last presence tick (SPEC R1), one entry
 * per key however often it changed: which fields, whether it was deleted, who
 * wrote it and when. Only names are kept, not values: {@link take} reads the
 * values from the current state, so a recipient never gets an older value
 * after a newer one.
 */
export class PresenceChanges {
  private readonly changes = new Map<string, Change>();
  /** Counts every recorded change; a session's join is placed on it to leave out what it already has. */
  private counter = 0;

  constructor(private readonly ephemeral: EphemeralView) {}

  /** Keys changed since the last {@link take}. */
  get size(): number {
    return this.changes.size;
  }

  /** The position of the latest recorded change. */
  get seq(): number {
    return this.counter;
  }

  /**
   * Records that `author` (null for the server) wrote `data` to `owner`'s key
   * `key`; returns true when it folded into a change already pending.
   */
  record(author: Session | null, owner: string, key: string, data: ComponentData): boolean {
    const id = `${owner}\u0000${key}`;
    let change = this.changes.get(id);
    const folded = change !== undefined;
    this.counter++;
    if (change) {
      change.seq = this.counter;
      if (author && change.author !== author) change.author = change.author === null ? author : 'many';
    } else {
      change = { owner, key, deleted: false, fields: new Set(), author, seq: this.counter };
      this.changes.set(id, change);
    }
    if (data._exists === false) {
      change.deleted = true;
      change.fields = new Set();
    } else if (change.deleted && data._exists === true) {
      // Created again after a deletion in this tick: send the whole new component after the deletion.
      change.fields = null;
    } else if (change.fields) {
      for (const field of Object.keys(data)) change.fields.add(field);
    }
    return folded;
  }

  /** The pending changes as frame fragments holding the current values; forgets them. */
  take(): Fragment<Session>[] {
    const out: Fragment<Session>[] = [];
    for (const change of this.changes.values()) {
      const current = this.ephemeral.fieldsOf(change.owner, change.key);
      const name = JSON.stringify(change.key);
      const value = current ? pick(current, change.deleted ? null : change.fields) : null;
      const valueText = value ? `${name}:${JSON.stringify(value)}` : null;
      if (change.deleted) {
        out.push({
          author: change.author,
          seq: change.seq,
          first: `${name}:{"_exists":false}`,
          second: valueText,
        });
      } else if (valueText) {
        // Absent and never deleted: a write the state ignored (D5), nothing to tell.
        out.push({ author: change.author, seq: change.seq, first: valueText, second: null });
      }
    }
    this.changes.clear();
    return out;
  }

  /** Forgets every pending change (the room is closing). */
  clear(): void {
    this.changes.clear();
  }
}

/** The fields of `current` named in `fields` (all of them when null), or null when none is there. */
function pick(current: Readonly<Record<string, unknown>>, fields: Set<string> | null): ComponentData | null {
  if (fields === null) return { ...current } as ComponentData;
  const out: Record<string, unknown> = Object.create(null);
  let any = false;
  for (const field of fields) {
    if (field in current) {
      out[field] = current[field];
      any = true;
    }
  }
  return any ? (out as ComponentData) : null;
}
