import { isBufferDelta } from '../protocol/buffer-delta-shape.js';
import type { ComponentData, Patch } from '../protocol/messages.js';
import { applyBufferDelta } from './apply-buffer-delta.js';
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
  /**
   * The merged view every newcomer is sent (SPEC E2, R3): each key with the
   * clients holding it, kept up to date on every create and delete so that a
   * join costs the keys it is sent, not a merge of every client's map.
   * Almost always one owner per key; clients that share a key name are listed
   * in the order they created it, and the last one's value is shown.
   */
  private readonly owners = new Map<string, string[]>();

  /** Merges validated patches into the state of `clientId` (SPEC E1). */
  apply(clientId: string, patches: readonly Patch[]): void {
    let state = this.byClient.get(clientId);
    for (const patch of patches) {
      for (const key of Object.keys(patch)) {
        const data = patch[key] as ComponentData;
        if (data._exists === false) {
          if (state?.keys.delete(key)) {
            this.dropOwner(key, clientId);
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
          this.addOwner(key, clientId);
        }
        let bytes = state.keyBytes.get(key) ?? nameBytes(key) + 2;
        // Only the written fields are re-measured: a write costs what it carries.
        for (const field of Object.keys(data)) {
          const value = data[field];
          if (field in fields) bytes -= nameBytes(field) + valueBytes(fields[field]);
          fields[field] = isBufferDelta(value) ? applyBufferDelta(fields[field], value) : value;
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

  /** The live fields of `clientId`'s key `key`, or undefined when it holds no such key. */
  fieldsOf(clientId: string, key: string): Readonly<Record<string, unknown>> | undefined {
    return this.byClient.get(clientId)?.keys.get(key);
  }

  /**
   * The merged state of every client except `clientId` (SPEC E2, D7), or null
   * when empty; read from the merged view, so it costs the keys it returns (R3).
   */
  othersThan(clientId: string): Patch | null {
    let merged: Patch | null = null;
    for (const [key, owners] of this.owners) {
      let at = owners.length - 1;
      while (at >= 0 && owners[at] === clientId) at--;
      if (at < 0) continue;
      const fields = this.byClient.get(owners[at] as string)?.keys.get(key);
      if (!fields) continue;
      merged ??= emptyRecord();
      merged[key] = { ...fields } as ComponentData;
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
    for (const key of state.keys.keys()) {
      deletions[key] = { _exists: false };
      this.dropOwner(key, clientId);
    }
    return deletions;
  }

  private addOwner(key: string, clientId: string): void {
    const owners = this.owners.get(key);
    if (owners) owners.push(clientId);
    else this.owners.set(key, [clientId]);
  }

  private dropOwner(key: string, clientId: string): void {
    const owners = this.owners.get(key);
    if (!owners) return;
    if (owners.length === 1) {
      if (owners[0] === clientId) this.owners.delete(key);
      return;
    }
    const at = owners.indexOf(clientId);
    if (at >= 0) owners.splice(at, 1);
  }

  /** Number of ephemeral keys held across clients. */
  get keyCount(): number {
    let count = 0;
    for (const state of this.byClient.values()) count += state.keys.size;
    return count;
  }
}
