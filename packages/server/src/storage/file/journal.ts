import { type ComponentData, type FieldTimestamps, isPlainObject } from 'canvas-store-protocol';
import type { RoomSnapshot } from '../../document/room-snapshot.js';
import { StorageCorruptError } from '../storage-corrupt-error.js';

/** The outcome of replaying a journal over a snapshot. */
interface ReplayResult {
  snapshot: RoomSnapshot | null;
  /** Bytes of complete lines; anything after is a torn tail to drop. */
  validBytes: number;
}

function highestStamp(stamps: FieldTimestamps | undefined): number {
  let max = Number.NEGATIVE_INFINITY;
  if (stamps) for (const field in stamps) max = Math.max(max, stamps[field] as number);
  return max;
}

function parseLine(line: string, where: string): { timestamp: number; components: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new StorageCorruptError(`${where} is not valid JSON`, error);
  }
  if (
    !isPlainObject(parsed) ||
    !Number.isSafeInteger(parsed.timestamp) ||
    !Array.isArray(parsed.components)
  ) {
    throw new StorageCorruptError(`${where} is not a journal batch`);
  }
  return { timestamp: parsed.timestamp as number, components: parsed.components };
}

/**
 * Rebuilds the latest state from a snapshot and the journal lines after it.
 * Each journal component is the whole state of its key at commit time; it
 * replaces the stored one unless that one is newer (higher stamp), so a
 * snapshot written while batches were in flight is never rolled back.
 *
 * A final line without its newline is a torn append (a crash mid-write, never
 * acked) and is ignored; any other malformed line throws {@link StorageCorruptError}.
 */
export function replayJournal(base: RoomSnapshot | null, text: string, path: string): ReplayResult {
  const lastNewline = text.lastIndexOf('\n');
  const complete = lastNewline === -1 ? '' : text.slice(0, lastNewline);
  const validBytes = lastNewline === -1 ? 0 : Buffer.byteLength(text.slice(0, lastNewline + 1));
  if (complete === '') return { snapshot: base, validBytes };
  const snapshot: RoomSnapshot = base
    ? { timestamp: base.timestamp, state: { ...base.state }, timestamps: { ...base.timestamps } }
    : { timestamp: 0, state: {}, timestamps: {} };
  // Deletion stamps of re-created keys (SPEC D7); older snapshots have none.
  const deletions: Record<string, number> = Object.create(null);
  if (base?.deletions) Object.assign(deletions, base.deletions);
  const baseTimestamp = snapshot.timestamp;
  const lines = complete.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const where = `${path} line ${i + 1}`;
    const batch = parseLine(lines[i] as string, where);
    if (batch.timestamp <= baseTimestamp) continue;
    for (const component of batch.components) {
      if (!isPlainObject(component) || typeof component.key !== 'string') {
        throw new StorageCorruptError(`${where} holds a malformed component`);
      }
      if (!isPlainObject(component.data) || !isPlainObject(component.stamps)) {
        throw new StorageCorruptError(`${where} holds a malformed component ${component.key}`);
      }
      const stamps = component.stamps as FieldTimestamps;
      if (highestStamp(stamps) < highestStamp(snapshot.timestamps[component.key])) continue;
      Object.defineProperty(snapshot.state, component.key, {
        value: component.data as ComponentData,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      Object.defineProperty(snapshot.timestamps, component.key, {
        value: stamps,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      // The component is the whole state of its key: its deletion stamp replaces any older one.
      if (typeof component.deletedAt === 'number') deletions[component.key] = component.deletedAt;
      else delete deletions[component.key];
    }
    snapshot.timestamp = Math.max(snapshot.timestamp, batch.timestamp);
  }
  if (Object.keys(deletions).length > 0) snapshot.deletions = { ...deletions };
  return { snapshot, validBytes };
}
