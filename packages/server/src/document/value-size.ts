import { type ComponentData, isValidatedBufferDelta } from 'canvas-store-protocol';

/**
 * What quotas count as the stored size of a value (SPEC B7): about its JSON
 * size, with 8 bytes per number (how V8 holds a materialised buffer).
 * Objects and arrays are measured once and remembered by identity, so
 * measuring a stored value again, when a write replaces it or a refused write
 * looks at it, costs nothing.
 */
const measured = new WeakMap<object, number>();

/** Bytes a key or field name costs, with its quotes and separator. */
export function nameBytes(name: string): number {
  return name.length + 3;
}

/** The stored size of a JSON value (see above). Values are trusted to be validated, so their depth is bounded. */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number') return 8;
  if (typeof value !== 'object' || value === null) return 5;
  const known = measured.get(value);
  if (known !== undefined) return known;
  let size = 2;
  if (Array.isArray(value)) {
    for (const item of value) size += typeof item === 'number' ? 8 : valueBytes(item) + 1;
  } else {
    const record = value as Record<string, unknown>;
    for (const name in record) size += nameBytes(name) + valueBytes(record[name]);
  }
  measured.set(value, size);
  return size;
}

/** The size a written field value will have once stored: a buffer delta becomes an array of `len` numbers. */
export function writtenBytes(value: unknown): number {
  return isValidatedBufferDelta(value) ? 2 + 8 * value.len : valueBytes(value);
}

/** The stored size of a whole component: its key, its field names and values. */
export function componentBytes(key: string, fields: ComponentData): number {
  let size = nameBytes(key) + 2;
  for (const field in fields) size += nameBytes(field) + valueBytes(fields[field]);
  return size;
}
