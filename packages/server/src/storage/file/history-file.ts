import type { HistoryWrite } from '../history.js';
import { StorageCorruptError } from '../storage-corrupt-error.js';
import { readIfExists, writeFileAtomically } from './journal-segments.js';

/** Version of the `<room>.history` file format. */
const HISTORY_FILE_VERSION = 1;

function isWrite(value: unknown): value is HistoryWrite {
  if (typeof value !== 'object' || value === null) return false;
  const write = value as Partial<HistoryWrite>;
  return (
    Number.isSafeInteger(write.clock) &&
    typeof write.time === 'number' &&
    typeof write.clientId === 'string' &&
    Array.isArray(write.keys) &&
    Array.isArray(write.previous)
  );
}

/**
 * Reads a room's history file: `{ "version": 1, "writes": [...] }`, oldest
 * first; empty when there is none. An unreadable one throws
 * {@link StorageCorruptError} (SPEC P3).
 */
export async function readHistoryFile(path: string): Promise<HistoryWrite[]> {
  const text = await readIfExists(path);
  if (text === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StorageCorruptError(`${path} is not valid JSON`, error);
  }
  const writes = (parsed as { writes?: unknown } | null)?.writes;
  if (!Array.isArray(writes) || !writes.every(isWrite)) {
    throw new StorageCorruptError(`${path} is not a history file`);
  }
  return writes;
}

/** Replaces a room's history file atomically. */
export function writeHistoryFile(dir: string, path: string, writes: readonly HistoryWrite[]): Promise<void> {
  return writeFileAtomically(dir, path, JSON.stringify({ version: HISTORY_FILE_VERSION, writes }));
}

/**
 * The history writes of a journal's complete lines (each line may carry
 * `writes`, SPEC H1), in order. A torn last line (never acked) is ignored;
 * malformed lines were already refused by the journal replay.
 */
export function journalWrites(text: string | null): HistoryWrite[] {
  if (text === null) return [];
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline === -1) return [];
  const out: HistoryWrite[] = [];
  for (const line of text.slice(0, lastNewline).split('\n')) {
    const writes = (JSON.parse(line) as { writes?: unknown }).writes;
    if (Array.isArray(writes)) for (const write of writes) if (isWrite(write)) out.push(write);
  }
  return out;
}
