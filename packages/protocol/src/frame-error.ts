/**
 * Stable codes carried by `error` frames and {@link FrameError}. A client may
 * branch on them; the message is for humans.
 */
export type FrameErrorCode =
  | 'frame-too-large'
  | 'invalid-json'
  | 'not-an-object'
  | 'unknown-type'
  | 'invalid-field'
  | 'invalid-patch'
  | 'invalid-component'
  | 'forbidden-name'
  | 'too-many-keys'
  | 'too-many-fields'
  | 'key-too-long'
  | 'too-deep'
  | 'invalid-buffer-delta'
  | 'buffer-too-long'
  | 'buffer-budget-exceeded'
  | 'room-key-quota'
  | 'room-bytes-quota'
  | 'ephemeral-key-quota'
  | 'ephemeral-bytes-quota'
  | 'rate-limited'
  | 'auth-refresh-unsupported';

/** Why a frame was rejected: a stable code and a precise human-readable message. */
export interface FrameError {
  code: FrameErrorCode;
  message: string;
  /** The rejected frame's `messageId`, when it had a readable one, so a client knows which write was refused. */
  messageId?: string;
}
