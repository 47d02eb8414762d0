import { createHash } from 'node:crypto';

const MAX_READABLE_LENGTH = 120;

/**
 * A file name for a room id that is safe on every file system: no path
 * separators, no `.`/`..`, no control characters, bounded length. Distinct ids
 * always map to distinct names.
 */
export function roomFileName(roomId: string, extension: string): string {
  const encoded = encodeURIComponent(roomId).replace(
    /[.*!'()~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (encoded.length <= MAX_READABLE_LENGTH) return `${encoded}${extension}`;
  // Long ids keep a readable prefix and a hash of the whole id for uniqueness.
  const digest = createHash('sha256').update(roomId).digest('hex').slice(0, 32);
  return `${encoded.slice(0, 64).replace(/%[0-9A-F]?$/, '')}~${digest}${extension}`;
}
