/**
 * Names that must never be used as a key or field name anywhere in a frame
 * (SPEC B2): assigning them on an ordinary object would reach the prototype chain.
 */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** True when `name` may not appear as a key or field name. */
export function isForbiddenName(name: string): boolean {
  return FORBIDDEN_NAMES.has(name);
}

/**
 * True when `name` can be stored and read back exactly by every backend:
 * well-formed Unicode (no unpaired surrogate) and no NUL character, which
 * database text columns cannot hold.
 */
export function isStorableName(name: string): boolean {
  return !name.includes('\u0000') && name.isWellFormed();
}
