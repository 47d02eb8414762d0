/** Stored data exists but cannot be read; the room must not open (SPEC P3). */
export class StorageCorruptError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StorageCorruptError';
  }
}
