import { DEFAULT_FRAME_LIMITS, isForbiddenName, isStorableName } from 'canvas-store-protocol';

/**
 * What the server accepts by default (SPEC B2, B4). The client checks writes
 * against these when they are made, so a value the server would refuse throws
 * at once instead of being buffered and refused later.
 */
export const WRITE_LIMITS = Object.freeze({
  maxKeyLength: DEFAULT_FRAME_LIMITS.maxKeyLength,
  maxDepth: DEFAULT_FRAME_LIMITS.maxDepth,
  maxFieldsPerComponent: DEFAULT_FRAME_LIMITS.maxFieldsPerComponent,
  maxBufferLength: DEFAULT_FRAME_LIMITS.maxBufferLength,
});

/** Throws a TypeError when `name` cannot be a key or field name. */
export function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what} must be a non-empty string`);
  if (isForbiddenName(name)) throw new TypeError(`${what} "${name}" is forbidden`);
  if (!isStorableName(name)) {
    throw new TypeError(`${what} holds a NUL character or an unpaired surrogate`);
  }
  if (name.length > WRITE_LIMITS.maxKeyLength) {
    throw new TypeError(`${what} is longer than ${WRITE_LIMITS.maxKeyLength} characters`);
  }
}

/** Throws a TypeError when the fields of one write would be refused by the server. */
export function checkFields(fields: Record<string, unknown>): void {
  const names = Object.keys(fields);
  if (names.length > WRITE_LIMITS.maxFieldsPerComponent) {
    throw new TypeError(`a component may hold at most ${WRITE_LIMITS.maxFieldsPerComponent} fields`);
  }
  for (const name of names) {
    checkName(name, 'field name');
    checkValue(fields[name], name);
  }
}

function checkValue(root: unknown, field: string): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value !== 'object' || value === null) continue;
    if (depth > WRITE_LIMITS.maxDepth) {
      throw new TypeError(`field "${field}" is nested deeper than ${WRITE_LIMITS.maxDepth} levels`);
    }
    if (Array.isArray(value)) {
      for (const child of value) stack.push({ value: child, depth: depth + 1 });
      continue;
    }
    for (const name of Object.keys(value)) {
      if (isForbiddenName(name))
        throw new TypeError(`field "${field}" contains the forbidden name "${name}"`);
      stack.push({ value: (value as Record<string, unknown>)[name], depth: depth + 1 });
    }
  }
}
