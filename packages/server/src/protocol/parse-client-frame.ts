import {
  type ClientMessage,
  checkFramePatches,
  type FrameError,
  type FrameErrorCode,
  type FrameLimits,
  isPlainObject,
  withinDepth,
} from 'canvas-store-protocol';
import { z } from 'zod';

/** The outcome of {@link parseClientFrame}: a typed frame or a precise error. */
export type ParseResult = { ok: true; frame: ClientMessage } | { ok: false; error: FrameError };

// This part of the validator stays with the server: it checks the envelope with
// zod and measures UTF-8 with Buffer, and canvas-store-protocol depends on
// nothing. The patches inside are walked by the protocol's checkFramePatches,
// because their rules (key budgets, depth, forbidden names, buffer deltas) span
// the whole frame and must stop early to keep the work bounded.
const patchList = z.array(z.unknown()).optional();
const timestamp = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

function envelopeSchemas(limits: FrameLimits) {
  return {
    patch: z.object({
      type: z.literal('patch'),
      messageId: z.string().max(limits.maxMessageIdLength),
      documentPatches: patchList,
      ephemeralPatches: patchList,
    }),
    reconnect: z.object({
      type: z.literal('reconnect'),
      lastTimestamp: timestamp,
      protocolVersion: z.number(),
      documentPatches: patchList,
      ephemeralPatches: patchList,
    }),
    'auth-refresh': z.object({
      type: z.literal('auth-refresh'),
      token: z.string().min(1).max(limits.maxTokenLength),
    }),
  } as const;
}

type EnvelopeSchemas = ReturnType<typeof envelopeSchemas>;
const schemaCache = new WeakMap<FrameLimits, EnvelopeSchemas>();

function schemasFor(limits: FrameLimits): EnvelopeSchemas {
  let schemas = schemaCache.get(limits);
  if (!schemas) {
    schemas = envelopeSchemas(limits);
    schemaCache.set(limits, schemas);
  }
  return schemas;
}

function fail(code: FrameErrorCode, message: string): { ok: false; error: FrameError } {
  return { ok: false, error: { code, message } };
}

/**
 * Levels of a frame above its field values: the frame object, a patch list, a
 * patch and a component. A buffer delta needs four levels of its own.
 */
const ENVELOPE_DEPTH = 4;

/** The deepest nesting a whole frame may have, for the scan before parsing. */
function frameDepthLimit(limits: FrameLimits): number {
  return ENVELOPE_DEPTH + Math.max(limits.maxDepth, ENVELOPE_DEPTH);
}

/** Names an unknown `type` without serialising it: it may be huge or deeply nested. */
function describeUnknownType(type: unknown): string {
  if (typeof type === 'string') return `unknown frame type "${type.slice(0, 64)}"`;
  const kind = type === null ? 'null' : Array.isArray(type) ? 'an array' : typeof type;
  return `frame type must be a string, got ${kind}`;
}

function describeZodIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid frame';
  const path = issue.path.length > 0 ? issue.path.join('.') : 'frame';
  return `${path}: ${issue.message}`;
}

/**
 * Turns one untrusted WebSocket message into a typed client frame, or a precise
 * error (SPEC B2). The work is bounded by the size of the input: the size is
 * checked before parsing, and every walk stops at the configured limits.
 * A caller that already measured the frame's UTF-8 size passes it as
 * `utf8Bytes`, so the text is not walked twice.
 *
 * @example
 * ```ts
 * const result = parseClientFrame('{"type":"patch","messageId":"m1"}', DEFAULT_FRAME_LIMITS);
 * if (result.ok) console.log(result.frame.type); // 'patch'
 * else console.log(result.error.code);
 * ```
 */
export function parseClientFrame(data: string, limits: FrameLimits, utf8Bytes?: number): ParseResult {
  // A UTF-8 byte is at most one UTF-16 unit, so length alone settles most cases.
  if (
    data.length > limits.maxFrameBytes ||
    (utf8Bytes ?? Buffer.byteLength(data, 'utf8')) > limits.maxFrameBytes
  ) {
    return fail('frame-too-large', `frame exceeds ${limits.maxFrameBytes} bytes`);
  }
  // B6: JSON.parse of a deeply nested text costs far more than its size; refuse it unparsed.
  if (!withinDepth(data, frameDepthLimit(limits))) {
    const result = fail(
      'too-deep',
      `frame is nested deeper than ${limits.maxDepth} levels inside a field value`,
    );
    const messageId = unparsedMessageId(data, limits);
    if (messageId !== undefined) result.error.messageId = messageId;
    return result;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return fail('invalid-json', 'frame is not valid JSON');
  }
  if (!isPlainObject(parsed)) return fail('not-an-object', 'frame must be a JSON object');
  const type = parsed.type;
  const schemas = schemasFor(limits);
  if (type !== 'patch' && type !== 'reconnect' && type !== 'auth-refresh') {
    return withMessageId(fail('unknown-type', describeUnknownType(type)), parsed, limits);
  }
  const envelope = schemas[type].safeParse(parsed);
  if (!envelope.success)
    return withMessageId(fail('invalid-field', describeZodIssue(envelope.error)), parsed, limits);
  const frame = envelope.data;
  if (frame.type === 'auth-refresh') return { ok: true, frame };
  const checked = checkFramePatches(frame.documentPatches, frame.ephemeralPatches, limits);
  if (!checked.ok) return withMessageId(checked, parsed, limits);
  const { documentPatches, ephemeralPatches } = checked;
  if (frame.type === 'patch') {
    return {
      ok: true,
      frame: { type: 'patch', messageId: frame.messageId, documentPatches, ephemeralPatches },
    };
  }
  return {
    ok: true,
    frame: {
      type: 'reconnect',
      lastTimestamp: frame.lastTimestamp,
      protocolVersion: frame.protocolVersion,
      documentPatches,
      ephemeralPatches,
    },
  };
}

// An unambiguous pattern (a string body is a run of plain or escaped characters): linear time.
const MESSAGE_ID = /"messageId"\s*:\s*"((?:[^"\\]|\\.)*)"/;

/**
 * The `messageId` of a frame refused before parsing, read from its text: the
 * first `"messageId": "..."` pair, so a client learns which write was refused.
 */
function unparsedMessageId(data: string, limits: FrameLimits): string | undefined {
  const match = MESSAGE_ID.exec(data);
  if (!match || (match[1] as string).length > limits.maxMessageIdLength * 6) return undefined;
  try {
    const id: unknown = JSON.parse(`"${match[1]}"`);
    return typeof id === 'string' && id.length <= limits.maxMessageIdLength ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Attaches the frame's `messageId` to its error when it is a string within bounds. */
function withMessageId(
  result: { ok: false; error: FrameError },
  frame: Record<string, unknown>,
  limits: FrameLimits,
): { ok: false; error: FrameError } {
  const { messageId } = frame;
  if (typeof messageId === 'string' && messageId.length <= limits.maxMessageIdLength) {
    result.error.messageId = messageId;
  }
  return result;
}
