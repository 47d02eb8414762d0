import { checkBufferDelta, looksLikeBufferDelta } from './buffer-delta-shape.js';
import { isForbiddenName, isStorableName } from './forbidden-names.js';
import type { FrameError, FrameErrorCode } from './frame-error.js';
import type { FrameLimits } from './frame-limits.js';
import type { Patch } from './messages.js';
import { isPlainObject } from './plain-object.js';

/** A refusal: a stable code and a precise message. */
export type PatchCheckFailure = { ok: false; error: FrameError };

/** The outcome of {@link checkFramePatches}: both patch lists, checked, or why they were refused. */
export type FramePatchesResult =
  | { ok: true; documentPatches: Patch[] | undefined; ephemeralPatches: Patch[] | undefined }
  | PatchCheckFailure;

class FrameRejection extends Error {
  constructor(readonly frameError: FrameError) {
    super(frameError.message);
  }
}

function reject(code: FrameErrorCode, message: string): never {
  throw new FrameRejection({ code, message });
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

/** Runs `check`, turning a rejection into a refusal; any other error is a bug and propagates. */
function refusalOf<T>(check: () => T): T | PatchCheckFailure {
  try {
    return check();
  } catch (err) {
    if (err instanceof FrameRejection) return { ok: false, error: err.frameError };
    throw err;
  }
}

/**
 * Checks the patch lists of one frame by the rules of SPEC B2 and B6: objects
 * of components, storable names within length, bounded depth, well-formed
 * buffer deltas, and one key budget and one buffer budget shared by both lists.
 * Stops at the first problem, so the work is bounded by the limits.
 *
 * @example
 * ```ts
 * const result = checkFramePatches([{ 'e1/Pos': { x: 1 } }], undefined, DEFAULT_FRAME_LIMITS);
 * if (!result.ok) console.log(result.error.code);
 * ```
 */
export function checkFramePatches(
  documentPatches: readonly unknown[] | undefined,
  ephemeralPatches: readonly unknown[] | undefined,
  limits: FrameLimits,
): FramePatchesResult {
  return refusalOf(() => {
    const checker = new PatchChecker(limits);
    return {
      ok: true as const,
      documentPatches: checker.checkList(documentPatches, 'documentPatches'),
      ephemeralPatches: checker.checkList(ephemeralPatches, 'ephemeralPatches'),
    };
  });
}

/**
 * Validates a list of patches from outside a frame (for example a server-side
 * edit through the admin API) by the same rules as client frames.
 */
export function checkPatchList(
  patches: unknown,
  limits: FrameLimits,
): { ok: true; patches: Patch[] } | PatchCheckFailure {
  if (!Array.isArray(patches)) {
    return { ok: false, error: { code: 'invalid-field', message: 'patches must be an array' } };
  }
  return refusalOf(() => ({
    ok: true as const,
    patches: new PatchChecker(limits).checkList(patches, 'patches') ?? [],
  }));
}
