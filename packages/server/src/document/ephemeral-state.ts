import {
  applyBufferDelta,
  type ComponentData,
  isValidatedBufferDelta,
  type Patch,
} from 'canvas-store-protocol';
import { emptyRecord } from './component-entry.js';
import { eachWrite } from './each-write.js';
import { nameBytes, valueBytes, writtenBytes } from './value-size.js';
import type { WriteProjection } from './write-projection.js';

/** One client's ephemeral keys, with the stored size of each and their total (SPEC B7). */
interface ClientState {
  readonly keys: Map<string, Record<string, unknown>>;
  readonly keyBytes: Map<string, number>;
  bytes: number;
}

/**
 * Ephemeral state (cursors, selections, presence) of every client in a room:
 * never persisted, never clocked, owned by one `clientId` (SPEC E1-E3).
 * Patches merge like document writes (D3-D5) without stamps: only `_exists: true`
 * creates a key, and a deleted key is forgotten. Each client's key count and bytes
 * are kept for its quotas (SPEC B7).
 */
export class EphemeralState {
  private readonly byClient = new Map<string, ClientState>();

  /** Merges validated patches into the state of `clientId` (SPEC E1). */
  apply(clientId: string, patches: readonly Patch[]): void {
    let state = this.byClient.get(clientId);
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        const data = patch[key] as ComponentData;
        if (data._exists === false) {
          if (state?.keys.delete(key)) {
            state.bytes -= state.keyBytes.get(key) ?? 0;
            state.keyBytes.delete(key);
          }
          continue;
        }
        let fields = state?.keys.get(key);
        if (!state || !fields) {
          // D5 as for the document: only `_exists: true` creates an absent key.
          if (data._exists !== true) continue;
          if (!state) {
            state = { keys: new Map(), keyBytes: new Map(), bytes: 0 };
            this.byClient.set(clientId, state);
          }
          fields = emptyRecord();
          state.keys.set(key, fields);
        }
        let bytes = state.keyBytes.get(key) ?? nameBytes(key) + 2;
        // Only the written fields are re-measured: a write costs what it carries.
        for (const field of Object.keys(data)) {
          const value = data[field];
          if (field in fields) bytes -= nameBytes(field) + valueBytes(fields[field]);
          fields[field] = isValidatedBufferDelta(value) ? applyBufferDelta(fields[field], value) : value;
          bytes += nameBytes(field) + valueBytes(fields[field]);
        }
        state.bytes += bytes - (state.keyBytes.get(key) ?? 0);
        state.keyBytes.set(key, bytes);
      }
    }
    if (state && state.keys.size === 0) this.byClient.delete(clientId);
  }

  /**
   * What applying `patches` as `clientId` would add to that client's key count
   * and bytes, without applying them; never an underestimate.
   */
  projectWrite(clientId: string, patches: readonly Patch[]): WriteProjection {
    const state = this.byClient.get(clientId);
    let newKeys = 0;
    let bytesDelta = 0;
    eachWrite(patches, (key, data, again) => {
      const fields = again ? undefined : state?.keys.get(key);
      if (data._exists === false) {
        bytesDelta -= fields ? (state?.keyBytes.get(key) ?? 0) : 0;
        return;
      }
      if (!fields) {
        // D5: a write without `_exists: true` to an absent key changes nothing.
        if (data._exists !== true && !again) return;
        if (!again) newKeys++;
        bytesDelta += nameBytes(key) + 2;
      }
      for (const field in data) {
        bytesDelta += nameBytes(field) + writtenBytes(data[field]);
        if (fields && field in fields) bytesDelta -= nameBytes(field) + valueBytes(fields[field]);
      }
    });
    return { newKeys, bytesDelta };
  }

  /** Keys and bytes `clientId` holds now. */
  usage(clientId: string): { keys: number; bytes: number } {
    const state = this.byClient.get(clientId);
    return { keys: state?.keys.size ?? 0, bytes: state?.bytes ?? 0 };
  }

  /** The merged state of every client except `clientId` (SPEC E2, D7), or null when empty. */
  othersThan(clientId: string): Patch | null {
    let merged: Patch | null = null;
    for (const [owner, state] of this.byClient) {
      if (owner === clientId) continue;
      for (const [key, fields] of state.keys) {
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
    for (const key of state.keys.keys()) deletions[key] = { _exists: false };
    return deletions;
  }

  /** Number of ephemeral keys held across clients. */
  get keyCount(): number {
    let count = 0;
    for (const state of this.byClient.values()) count += state.keys.size;
    return count;
  }
}
