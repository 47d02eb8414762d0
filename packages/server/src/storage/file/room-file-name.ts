import { createHash } from 'node:crypto';

const MAX_READABLE_LENGTH = 120;
const LONG_PREFIX_LENGTH = 64;

/**
 * Names Windows refuses as a file's base name whatever its extension or letter
 * case (`con.json` opens the console). Compared with the encoded base name.
 */
const RESERVED_BASE_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

function hexByte(byte: number): string {
  return `%${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Marks a name whose id needed escaping. The old naming never wrote it (it
 * escaped `=`), so an escaped name cannot be any old file's name either.
 */
const ESCAPED_MARK = '=';

/**
 * Encodes one room id into characters that mean the same on every file system:
 * `a-z`, `0-9` and `-` stand for themselves, an upper-case letter becomes `_`
 * and its lower-case form, and every other UTF-8 byte becomes `%` and two
 * lower-case hex digits. The output never holds an upper-case letter, so two
 * names that a case-insensitive file system would confuse are the same string,
 * and each output decodes to one id only (the three token shapes cannot be
 * mistaken for each other), so distinct ids give distinct names. Ids that need
 * no escaping keep their name (and the name they had before SPEC B9); the
 * others start with {@link ESCAPED_MARK}.
 */
function encodeRoomId(roomId: string): string {
  let out = '';
  for (const char of roomId) {
    if (/^[a-z0-9-]$/.test(char)) out += char;
    else if (/^[A-Z]$/.test(char)) out += `_${char.toLowerCase()}`;
    else for (const byte of Buffer.from(char, 'utf8')) out += hexByte(byte);
  }
  // A reserved device name keeps its meaning with an escaped first letter, which no other id encodes to.
  if (RESERVED_BASE_NAME.test(out)) out = hexByte(out.charCodeAt(0)) + out.slice(1);
  return out === roomId ? out : `${ESCAPED_MARK}${out}`;
}

/**
 * A file name for a room id that is safe on every file system: no path
 * separators, no `.`/`..`, no control characters, no trailing dots or spaces,
 * no Windows device names (`CON`, `nul`, `COM1`...), bounded length, and
 * distinct ids never map to names that differ only by letter case
 * (`board` → `board`, `Board` → `=_board`) (SPEC B9).
 *
 * @example
 * ```ts
 * roomFileName('Board 1', '.json'); // '=_board%201.json'
 * ```
 */
export function roomFileName(roomId: string, extension: string): string {
  const encoded = encodeRoomId(roomId);
  if (encoded.length <= MAX_READABLE_LENGTH) return `${encoded}${extension}`;
  // Long ids keep a readable prefix (cut before a partial token) and a hash of the whole id.
  const digest = createHash('sha256').update(roomId).digest('hex').slice(0, 32);
  const prefix = encoded.slice(0, LONG_PREFIX_LENGTH).replace(/(_|%[0-9a-f]?)$/, '');
  return `${prefix}~${digest}${extension}`;
}

/**
 * The name the file storage gave a room before SPEC B9 (kept letter case,
 * used reserved names as they were). Only read to migrate old files.
 */
export function legacyRoomFileName(roomId: string, extension: string): string {
  const encoded = encodeURIComponent(roomId).replace(
    /[.*!'()~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (encoded.length <= MAX_READABLE_LENGTH) return `${encoded}${extension}`;
  const digest = createHash('sha256').update(roomId).digest('hex').slice(0, 32);
  return `${encoded.slice(0, LONG_PREFIX_LENGTH).replace(/%[0-9A-F]?$/, '')}~${digest}${extension}`;
}
