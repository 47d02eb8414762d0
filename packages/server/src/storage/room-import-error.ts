/**
 * Why an import was refused; documented in docs/history.md. Every refusal
 * happens before anything is stored, so a refused import changes nothing.
 */
export type RoomImportErrorCode =
  /** The file is larger than the import limit (`--max-import-bytes`). */
  | 'import_too_large'
  /** The file nests deeper than `--max-depth` allows values to. */
  | 'import_too_deep'
  /** The file is not JSON. */
  | 'import_not_json'
  /** The file is JSON but not a valid export; `path` names the bad field. */
  | 'import_invalid'
  /** The file is an export of a version this server does not read. */
  | 'import_unsupported_version'
  /** The document is larger than the room limits of this server. */
  | 'import_exceeds_room_limits'
  /** The target room already holds data: imports go into new or empty rooms only. */
  | 'room_not_empty';

/** An import that was refused; nothing was stored. */
export class RoomImportError extends Error {
  constructor(
    readonly code: RoomImportErrorCode,
    message: string,
    /** Where in the file the problem is (`components[3].stamps`), when it is one place. */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'RoomImportError';
  }
}
