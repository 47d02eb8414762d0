import { isPlainObject, isStorableName, withinDepth } from 'canvas-store-protocol';
import { z } from 'zod';
import { ClockedDocument } from '../document/clocked-document.js';
import { SnapshotFormatError } from '../document/snapshot-format-error.js';
import type { StoredComponent } from '../document/stored-component.js';
import type { HistoryEntry } from './history.js';
import { RoomImportError } from './room-import-error.js';

/** The `format` field of every room export. */
export const ROOM_EXPORT_FORMAT = 'canvas-store-room-export';
/** The version of the export format this server writes and reads. */
export const ROOM_EXPORT_VERSION = 1;
/** Default largest export file an import reads: 256 MiB. */
export const DEFAULT_MAX_IMPORT_BYTES = 256 * 1024 * 1024;

/**
 * A room as a file (SPEC H4): the whole stored document, each component with
 * the clock stamp of each field, tombstones (`{ "_exists": false }`) and the
 * stamp of the deletion a re-created key replaced (`deletedAt`), the room
 * clock, and optionally the history entries (oldest first; informational,
 * an import does not replay them). See docs/history.md.
 */
export interface RoomExport {
  format: typeof ROOM_EXPORT_FORMAT;
  version: typeof ROOM_EXPORT_VERSION;
  /** The room it was exported from. */
  roomId: string;
  /** When it was exported, ISO 8601. */
  exportedAt: string;
  /** The room clock: every stamp is at most this. */
  clock: number;
  components: StoredComponent[];
  history?: HistoryEntry[];
}

/** Bounds an import checks besides its byte size; the room limits of the target server. */
export interface ImportLimits {
  /** Most keys (tombstones included) the imported document may hold. */
  maxRoomKeys: number;
  /** Most stored bytes of the imported document. */
  maxRoomBytes: number;
  /** Longest key or field name. */
  maxKeyLength: number;
  /** Most fields of one component. */
  maxFieldsPerComponent: number;
  /** Deepest nesting of the file (values are at most this minus the export's own levels). */
  maxDepth: number;
}

/** Levels of nesting the format itself uses above a field value: file, components, component, data. */
const FORMAT_DEPTH = 4;

const stamp = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

function isStampMap(value: unknown): value is Record<string, number> {
  return isPlainObject(value) && Object.values(value).every((v) => stamp.safeParse(v).success);
}

// Plain-object checks (not z.record) so nothing is copied and no key, such
// as `__proto__`, is ever assigned to a fresh object.
const componentSchema = z.strictObject({
  key: z.string().min(1),
  data: z.custom<Record<string, unknown>>(isPlainObject, 'must be an object'),
  stamps: z.custom<Record<string, number>>(isStampMap, 'must map field names to non-negative whole clocks'),
  deletedAt: stamp.optional(),
});

const historyEntrySchema = z.strictObject({
  clock: stamp,
  time: stamp,
  clientId: z.string(),
  keys: z.array(z.string()),
});

const exportSchema = z.strictObject({
  format: z.literal(ROOM_EXPORT_FORMAT),
  version: z.literal(ROOM_EXPORT_VERSION),
  roomId: z.string(),
  exportedAt: z.string(),
  clock: stamp,
  components: z.array(componentSchema),
  history: z.array(historyEntrySchema).optional(),
});

/** `components[3].stamps`: where a problem is, as a person reads it. */
function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  }
  return text === '' ? '(the file)' : text;
}

/** Builds an export of a stored room. */
export function buildRoomExport(
  roomId: string,
  stored: { timestamp: number; components: StoredComponent[] },
  history?: HistoryEntry[],
): RoomExport {
  const file: RoomExport = {
    format: ROOM_EXPORT_FORMAT,
    version: ROOM_EXPORT_VERSION,
    roomId,
    exportedAt: new Date().toISOString(),
    clock: stored.timestamp,
    components: stored.components,
  };
  if (history) file.history = history;
  return file;
}

/**
 * Reads and validates the text of an export file: size, nesting, JSON,
 * shape (each problem named by its path), then the document rules (stamps
 * within the clock, no duplicate or forbidden keys) and the room limits.
 * Pure: nothing is stored.
 *
 * @throws {@link RoomImportError} saying what is wrong and where.
 */
export function parseRoomExportText(text: string, maxBytes: number, limits: ImportLimits): RoomExport {
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) {
    throw new RoomImportError('import_too_large', `the file is ${bytes} bytes; at most ${maxBytes} are read`);
  }
  if (!withinDepth(text, limits.maxDepth + FORMAT_DEPTH)) {
    throw new RoomImportError(
      'import_too_deep',
      `a value is nested deeper than ${limits.maxDepth} levels (--max-depth)`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RoomImportError('import_not_json', `the file is not JSON: ${(error as Error).message}`);
  }
  return parseRoomExport(value, limits);
}

/**
 * Validates a parsed export file (see {@link parseRoomExportText}).
 *
 * @throws {@link RoomImportError} saying what is wrong and where.
 */
export function parseRoomExport(value: unknown, limits: ImportLimits): RoomExport {
  if (isPlainObject(value) && value.format === ROOM_EXPORT_FORMAT && value.version !== ROOM_EXPORT_VERSION) {
    throw new RoomImportError(
      'import_unsupported_version',
      `version ${JSON.stringify(value.version)} of the export format is not supported; this server reads version ${ROOM_EXPORT_VERSION}`,
      'version',
    );
  }
  const result = exportSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    const path = pathText(issue.path);
    throw new RoomImportError('import_invalid', `${path}: ${issue.message}`, path);
  }
  const file = result.data as RoomExport;
  checkNames(file.components, limits);
  let document: ClockedDocument;
  try {
    document = ClockedDocument.fromComponents(file.clock, file.components);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw new RoomImportError('import_invalid', error.message);
    throw error;
  }
  if (document.keyCount > limits.maxRoomKeys) {
    throw new RoomImportError(
      'import_exceeds_room_limits',
      `the room holds ${document.keyCount} keys; rooms here hold at most ${limits.maxRoomKeys} (--max-room-keys)`,
    );
  }
  if (document.storedBytes > limits.maxRoomBytes) {
    throw new RoomImportError(
      'import_exceeds_room_limits',
      `the room holds ${document.storedBytes} bytes; rooms here hold at most ${limits.maxRoomBytes} (--max-room-bytes)`,
    );
  }
  return file;
}

/** Keys and field names every backend can store, within the name and field limits. */
function checkNames(components: readonly StoredComponent[], limits: ImportLimits): void {
  const bad = (index: number, what: string) => {
    const path = `components[${index}]${what}`;
    return new RoomImportError('import_invalid', `${path}: ${describeNameRule(limits)}`, path);
  };
  const ok = (name: string) => name.length <= limits.maxKeyLength && isStorableName(name);
  components.forEach((component, index) => {
    if (!ok(component.key)) throw bad(index, '.key');
    const fields = Object.keys(component.data);
    if (fields.length > limits.maxFieldsPerComponent) {
      const path = `components[${index}].data`;
      throw new RoomImportError(
        'import_exceeds_room_limits',
        `${path}: ${fields.length} fields; at most ${limits.maxFieldsPerComponent} per component`,
        path,
      );
    }
    for (const field of fields) if (!ok(field)) throw bad(index, `.data.${field.slice(0, 40)}`);
  });
}

function describeNameRule(limits: ImportLimits): string {
  return `names must be 1-${limits.maxKeyLength} characters without NUL or unpaired surrogates`;
}
