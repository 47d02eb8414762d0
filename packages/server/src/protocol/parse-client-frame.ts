import { z } from 'zod';
import { checkBufferDelta, looksLikeBufferDelta } from './buffer-delta-shape.js';
import { isForbiddenName, isStorableName } from './forbidden-names.js';
import type { FrameError, FrameErrorCode } from './frame-error.js';
import type { FrameLimits } from './frame-limits.js';
import type { ClientMessage, Patch } from './messages.js';
import { isPlainObject } from './plain-object.js';
import { withinDepth } from './scan-depth.js';

/** The outcome of {@link parseClientFrame}: a typed frame or a precise error. */
export type ParseResult = { ok: true; frame: ClientMessage } | { ok: false; error: FrameError };

// The envelope is checked with zod; the patches inside are walked by hand below
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

class FrameRejection extends Error {
  constructor(readonly frameError: FrameError) {
    super(frameError.message);
  }
}

function reject(code: FrameErrorCode, message: string): never {
  throw new FrameRejection({ code, message });
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

/** Walks the patches of one frame, sharing one key budget and one buffer budget across all of them. */
class PatchChecker {
  private keysLeft: number;
  private bufferEntriesLeft: number;

  constructor(private readonly limits: FrameLimits) {
    this.keysLeft = limits.maxKeysPerFrame;
    this.bufferEntriesLeft = limits.maxBufferEntriesPerFrame;
  }

  checkList(list: readonly unknown[] | undefined, where: string): Patch[] | undefined {
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) this.checkPatch(list[i], `${where}[${i}]`);
    return list as Patch[];
  }

  private checkPatch(patch: unknown, where: string): void {
    if (!isPlainObject(patch)) reject('invalid-patch', `${where} must be an object of components`);
    for (const key of Object.keys(patch)) {
      if (--this.keysLeft < 0) {
        reject('too-many-keys', `frame holds more than ${this.limits.maxKeysPerFrame} keys`);
      }
      this.checkName(key, `${where} key`);
      this.checkComponent(patch[key], `${where}["${key}"]`);
    }
  }

  private checkComponent(component: unknown, where: string): void {
    if (!isPlainObject(component)) reject('invalid-component', `${where} must be an object of fields`);
    const fields = Object.keys(component);
    if (fields.length > this.limits.maxFieldsPerComponent) {
      reject('too-many-fields', `${where} has more than ${this.limits.maxFieldsPerComponent} fields`);
    }
    for (const field of fields) {
      this.checkName(field, `${where} field`);
      const value = component[field];
      if (field === '_exists' && typeof value !== 'boolean') {
        reject('invalid-component', `${where}._exists must be a boolean`);
      }
      if (looksLikeBufferDelta(value)) {
        const problem = checkBufferDelta(value as Record<string, unknown>, this.limits.maxBufferLength);
        if (problem !== null) {
          const code = problem.includes('maximum buffer length') ? 'buffer-too-long' : 'invalid-buffer-delta';
          reject(code, `${where}.${field}: ${problem}`);
        }
        // B6: each delta is capped alone; their sum is what the frame makes the server allocate.
        this.bufferEntriesLeft -= (value as { len: number }).len;
        if (this.bufferEntriesLeft < 0) {
          reject(
            'buffer-budget-exceeded',
            `frame's buffer deltas materialise more than ${this.limits.maxBufferEntriesPerFrame} entries`,
          );
        }
      } else {
        this.checkValue(value, `${where}.${field}`);
      }
    }
  }

  /** Iterative walk of a JSON value: depth and names are checked without recursion. */
  private checkValue(root: unknown, where: string): void {
    if (typeof root !== 'object' || root === null) return;
    const stack: Array<{ value: object; depth: number }> = [{ value: root, depth: 1 }];
    while (stack.length > 0) {
      const { value, depth } = stack.pop() as { value: object; depth: number };
      if (depth > this.limits.maxDepth) {
        reject('too-deep', `${where} is nested deeper than ${this.limits.maxDepth} levels`);
      }
      const children: unknown[] = Array.isArray(value) ? value : this.objectChildren(value, where);
      for (const child of children) {
        if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
      }
    }
  }

  private objectChildren(value: object, where: string): unknown[] {
    const record = value as Record<string, unknown>;
    const children: unknown[] = [];
    for (const name of Object.keys(record)) {
      if (isForbiddenName(name)) reject('forbidden-name', `${where} contains the forbidden name "${name}"`);
      children.push(record[name]);
    }
    return children;
  }

  private checkName(name: string, where: string): void {
    if (isForbiddenName(name)) reject('forbidden-name', `${where} "${name}" is forbidden`);
    if (!isStorableName(name)) {
      reject('forbidden-name', `${where} holds a NUL character or an unpaired surrogate`);
    }
    if (name.length > this.limits.maxKeyLength) {
      reject('key-too-long', `${where} is longer than ${this.limits.maxKeyLength} characters`);
    }
  }
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
  try {
    const checker = new PatchChecker(limits);
    const documentPatches = checker.checkList(frame.documentPatches, 'documentPatches');
    const ephemeralPatches = checker.checkList(frame.ephemeralPatches, 'ephemeralPatches');
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
  } catch (err) {
    if (err instanceof FrameRejection)
      return withMessageId({ ok: false, error: err.frameError }, parsed, limits);
    throw err;
  }
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

/**
 * Validates a list of patches from outside a frame (for example a server-side
 * edit through the admin API) by the same rules as client frames.
 */
export function checkPatchList(
  patches: unknown,
  limits: FrameLimits,
): { ok: true; patches: Patch[] } | { ok: false; error: FrameError } {
  if (!Array.isArray(patches)) return fail('invalid-field', 'patches must be an array');
  try {
    const checked = new PatchChecker(limits).checkList(patches, 'patches') ?? [];
    return { ok: true, patches: checked };
  } catch (err) {
    if (err instanceof FrameRejection) return { ok: false, error: err.frameError };
    throw err;
  }
}
