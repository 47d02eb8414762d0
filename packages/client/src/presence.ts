import { applyBufferDelta, type ComponentData, isBufferDelta, type Patch } from 'canvas-store-protocol';
import { deepEqual } from './deep-equal.js';

/** Ephemeral keys of presence start with this, followed by the client id. */
export const PRESENCE_PREFIX = 'presence/';

/** The ephemeral key of a client's presence. */
export function presenceKey(clientId: string): string {
  return `${PRESENCE_PREFIX}${clientId}`;
}

/** One presence change of another client; `state: undefined` means it left. */
export interface PresenceChange {
  clientId: string;
  state: Record<string, unknown> | undefined;
}

type State = Record<string, unknown>;

/**
 * Presence: this client's own ephemeral state under `presence/<clientId>`,
 * and the other clients' as the server broadcasts it (SPEC E1-E3). Own
 * presence is sent as the fields that changed; a removed field resends the
 * whole state after a deletion.
 */
export class PresenceState {
  private own: State | null = null;
  /** What the server holds of ours through the current socket. */
  private sent: State | null = null;
  private readonly remote = new Map<string, State>();

  constructor(private readonly clientId: string) {}

  /** Other clients' presence by client id. */
  get others(): ReadonlyMap<string, Readonly<State>> {
    return this.remote;
  }

  /** This client's presence, as last set. */
  get ownState(): Readonly<State> | null {
    return this.own;
  }

  /** True when own presence changed since it was last sent. */
  get dirty(): boolean {
    return !deepEqual(this.own, this.sent);
  }

  /** Sets own presence (`null` removes it). */
  setOwn(state: State | null): void {
    if (state === null) {
      this.own = null;
      return;
    }
    const own = JSON.parse(JSON.stringify(state)) as State;
    // `_exists` is the wire's own marker, not a presence field.
    delete own._exists;
    this.own = own;
  }

  /** The ephemeral patches that bring the server from what we sent to our presence, or none. */
  takeUpdate(): Patch[] | undefined {
    const key = presenceKey(this.clientId);
    const own = this.own;
    const sent = this.sent;
    this.sent = own;
    if (deepEqual(own, sent)) return undefined;
    if (own === null) return [{ [key]: { _exists: false } }];
    // SPEC D5: only `_exists: true` creates the key on the server.
    if (sent === null) return [{ [key]: { _exists: true, ...own } }];
    const removed = Object.keys(sent).some((field) => !Object.hasOwn(own, field));
    if (removed) return [{ [key]: { _exists: false } }, { [key]: { _exists: true, ...own } }];
    const changed: ComponentData = {};
    for (const field of Object.keys(own)) {
      if (!deepEqual(own[field], sent[field])) changed[field] = own[field];
    }
    return [{ [key]: changed }];
  }

  /** Own presence for a `reconnect` frame (the server forgot it when our last socket closed). */
  takeForReconnect(): Patch[] | undefined {
    this.sent = this.own;
    return this.own === null ? undefined : [{ [presenceKey(this.clientId)]: { _exists: true, ...this.own } }];
  }

  /** The socket closed: other clients' presence is unknown until the next reconnect reply. */
  socketClosed(): PresenceChange[] {
    this.sent = null;
    const gone = Array.from(this.remote.keys(), (clientId) => ({ clientId, state: undefined }));
    this.remote.clear();
    return gone;
  }

  /** Applies ephemeral patches from the server; returns the presence changes, one per client. */
  applyRemote(patches: readonly Patch[]): PresenceChange[] {
    const changed = new Set<string>();
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        if (!key.startsWith(PRESENCE_PREFIX)) continue;
        const clientId = key.slice(PRESENCE_PREFIX.length);
        if (clientId === this.clientId) continue;
        const data = patch[key] as ComponentData;
        if (data._exists === false) {
          if (this.remote.delete(clientId)) changed.add(clientId);
          continue;
        }
        const next: State = { ...this.remote.get(clientId) };
        for (const field of Object.keys(data)) {
          if (field === '_exists') continue;
          const value = data[field];
          next[field] = isBufferDelta(value) ? applyBufferDelta(next[field], value) : value;
        }
        this.remote.set(clientId, next);
        changed.add(clientId);
      }
    }
    return Array.from(changed, (clientId) => ({ clientId, state: this.remote.get(clientId) }));
  }
}
