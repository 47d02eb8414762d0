import { isBufferDelta } from '../protocol/buffer-delta-shape.js';
import type { ComponentData, Patch } from '../protocol/messages.js';
import { applyBufferDelta } from './apply-buffer-delta.js';
import { emptyRecord } from './component-entry.js';

/**
 * Ephemeral state (cursors, selections, presence) of every client in a room:
 * never persisted, never clocked, owned by one `clientId` (SPEC E1-E3).
 * Patches merge like document writes (D3-D5) without stamps: only `_exists: true`
 * creates a key, and a deleted key is forgotten.
 */
export class EphemeralState {
  private readonly byClient = new Map<string, Map<string, Record<string, unknown>>>();

  /** Merges validated patches into the state of `clientId` (SPEC E1). */
  apply(clientId: string, patches: readonly Patch[]): void {
    let state = this.byClient.get(clientId);
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        const data = patch[key] as ComponentData;
        if (data._exists === false) {
          state?.delete(key);
          continue;
        }
        let fields = state?.get(key);
        if (!fields) {
          // D5 as for the document: only `_exists: true` creates an absent key.
          if (data._exists !== true) continue;
          if (!state) {
            state = new Map();
            this.byClient.set(clientId, state);
          }
          fields = emptyRecord();
          state.set(key, fields);
        }
        for (const field of Object.keys(data)) {
          const value = data[field];
          fields[field] = isBufferDelta(value) ? applyBufferDelta(fields[field], value) : value;
        }
      }
    }
    if (state && state.size === 0) this.byClient.delete(clientId);
  }

  /** The merged state of every client except `clientId` (SPEC E2, D7), or null when empty. */
  othersThan(clientId: string): Patch | null {
    let merged: Patch | null = null;
    for (const [owner, state] of this.byClient) {
      if (owner === clientId) continue;
      for (const [key, fields] of state) {
        merged ??= emptyRecord();
        merged[key] = { ...fields };
      }
    }
    return merged;
  }

  /**
   * Forgets every key of `clientId` and returns a patch deleting them, for the
   * other clients (SPEC E3), or null when it held nothing.
   */
  forget(clientId: string): Patch | null {
    const state = this.byClient.get(clientId);
    if (!state) return null;
    this.byClient.delete(clientId);
    const deletions: Patch = emptyRecord();
    for (const key of state.keys()) deletions[key] = { _exists: false };
    return deletions;
  }

  /** Number of ephemeral keys held across clients. */
  get keyCount(): number {
    let count = 0;
    for (const state of this.byClient.values()) count += state.size;
    return count;
  }
}
