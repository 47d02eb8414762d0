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
  return !name.includes('\u0000') && isWellFormed(name);
}

// String.prototype.isWellFormed is ES2024: Node 20 has it, older browsers the client runs in may not.
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(name: string): boolean {
  const check = (name as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof check === 'function') return check.call(name);
  return !UNPAIRED_SURROGATE.test(name);
}
