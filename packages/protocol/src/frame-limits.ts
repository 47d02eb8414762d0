/**
 * Bounds on what a single frame may contain (SPEC B2, B4). Everything a client
 * sends is checked against these before any of it applies.
 */
export interface FrameLimits {
  /** Largest accepted frame, in bytes of UTF-8. Default 2 MiB. */
  maxFrameBytes: number;
  /** Most component keys across all patches of one frame. Default 10,000. */
  maxKeysPerFrame: number;
  /** Most fields in one component. Default 1,000. */
  maxFieldsPerComponent: number;
  /** Longest key or field name, in characters. Default 512. */
  maxKeyLength: number;
  /** Deepest nesting of objects and arrays inside one field value. Default 32. */
  maxDepth: number;
  /** Largest `len` of a buffer delta. Default 100,000 entries. */
  maxBufferLength: number;
  /**
   * Most buffer entries one frame may materialise: the sum of the `len` of all
   * its buffer deltas, document and ephemeral alike (SPEC B6). Default 1,000,000.
   */
  maxBufferEntriesPerFrame: number;
  /** Longest `messageId`, in characters. Default 256. */
  maxMessageIdLength: number;
  /** Longest `auth-refresh` token, in characters. Default 16,384. */
  maxTokenLength: number;
}

/** The defaults of {@link FrameLimits}: generous for real editors, tight enough to bound work per byte. */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxFrameBytes: 2 * 1024 * 1024,
  maxKeysPerFrame: 10_000,
  maxFieldsPerComponent: 1_000,
  maxKeyLength: 512,
  maxDepth: 32,
  maxBufferLength: 100_000,
  maxBufferEntriesPerFrame: 1_000_000,
  maxMessageIdLength: 256,
  maxTokenLength: 16_384,
});
