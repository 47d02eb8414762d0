import type { RoomSnapshot } from '../../src/index.js';

/** A small snapshot that names its index, to check that each room loads back its own data. */
export function numberedSnapshot(index: number): RoomSnapshot {
  return {
    timestamp: index + 1,
    state: { 'e/P': { _exists: true, id: index } },
    timestamps: { 'e/P': { _exists: index + 1, id: index + 1 } },
  };
}
