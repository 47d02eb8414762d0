/**
 * True for objects made by `JSON.parse` or object literals (prototype
 * `Object.prototype` or `null`), false for arrays, `null` and class instances.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
