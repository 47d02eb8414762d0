import type { FrameErrorCode, Patch } from 'canvas-store-protocol';
import type { ClockedDocument } from '../document/clocked-document.js';
import type { EphemeralState } from '../document/ephemeral-state.js';
import type { RoomLimits } from './room-limits.js';

/** Why a write was refused by a quota: the `error` code, the limit's name and a message. */
export interface QuotaRefusal {
  code: FrameErrorCode;
  limit: keyof RoomLimits;
  message: string;
}

/**
 * Checks a readwrite session's write against the room's and the client's
 * quotas (SPEC B7) before any of it applies. A write that frees room (a
 * deletion) is always allowed, so a full room can be cleaned up; only growth
 * past a quota is refused.
 *
 * @returns the first quota the write would pass, or null when it fits.
 */
export function quotaRefusal(
  document: ClockedDocument,
  ephemeral: EphemeralState,
  clientId: string,
  documentPatches: readonly Patch[],
  ephemeralPatches: readonly Patch[],
  limits: RoomLimits,
): QuotaRefusal | null {
  if (documentPatches.length > 0) {
    const { newKeys, bytesDelta } = document.projectWrite(documentPatches);
    if (newKeys > 0 && document.keyCount + newKeys > limits.maxRoomKeys) {
      return {
        code: 'room-key-quota',
        limit: 'maxRoomKeys',
        message: `the room holds ${document.keyCount} keys (tombstones included); this write would pass its quota of ${limits.maxRoomKeys}`,
      };
    }
    if (bytesDelta > 0 && document.storedBytes + bytesDelta > limits.maxRoomBytes) {
      return {
        code: 'room-bytes-quota',
        limit: 'maxRoomBytes',
        message: `the room stores ${document.storedBytes} bytes; this write would pass its quota of ${limits.maxRoomBytes}`,
      };
    }
  }
  if (ephemeralPatches.length > 0) {
    const usage = ephemeral.usage(clientId);
    const { newKeys, bytesDelta } = ephemeral.projectWrite(clientId, ephemeralPatches);
    if (newKeys > 0 && usage.keys + newKeys > limits.maxEphemeralKeysPerClient) {
      return {
        code: 'ephemeral-key-quota',
        limit: 'maxEphemeralKeysPerClient',
        message: `this client holds ${usage.keys} ephemeral keys; this write would pass its quota of ${limits.maxEphemeralKeysPerClient}`,
      };
    }
    if (bytesDelta > 0 && usage.bytes + bytesDelta > limits.maxEphemeralBytesPerClient) {
      return {
        code: 'ephemeral-bytes-quota',
        limit: 'maxEphemeralBytesPerClient',
        message: `this client holds ${usage.bytes} ephemeral bytes; this write would pass its quota of ${limits.maxEphemeralBytesPerClient}`,
      };
    }
  }
  return null;
}
