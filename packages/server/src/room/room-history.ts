import type { ComponentData, Patch } from 'canvas-store-protocol';
import type { StoredComponent } from '../document/stored-component.js';
import { isTombstone } from '../storage/history-log.js';
import type { StoredRoom } from '../storage/storage.js';

function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function sameFieldNames(a: ComponentData, b: ComponentData): boolean {
  const aNames = Object.keys(a);
  if (aNames.length !== Object.keys(b).length) return false;
  return aNames.every((name) => Object.hasOwn(b, name));
}

/**
 * The patches of a restore (SPEC H2): applied as one write, they make the
 * live document equal to `past`. Keys live now but not then are deleted;
 * keys live then but not now are created with `_exists: true` (SPEC D5);
 * keys whose fields changed get the old values, and a key whose set of
 * fields changed is deleted and created again whole (a patch cannot remove
 * one field), in a second patch so the deletion applies first (SPEC D2).
 * Empty when the document already equals `past`.
 */
export function restorePatches(current: Iterable<StoredComponent>, past: StoredRoom): Patch[] {
  const then = new Map<string, ComponentData>();
  for (const component of past.components) {
    if (!isTombstone(component)) then.set(component.key, component.data);
  }
  const first = emptyRecord<ComponentData>();
  const second = emptyRecord<ComponentData>();
  const liveNow = new Set<string>();
  for (const component of current) {
    if (isTombstone(component)) continue;
    const { key, data } = component;
    liveNow.add(key);
    const old = then.get(key);
    if (old === undefined) {
      first[key] = { _exists: false };
    } else if (!sameFieldNames(old, data)) {
      first[key] = { _exists: false };
      second[key] = { ...old, _exists: true };
    } else {
      const changed: ComponentData = {};
      let any = false;
      for (const name of Object.keys(old)) {
        if (JSON.stringify(old[name]) !== JSON.stringify(data[name])) {
          changed[name] = old[name];
          any = true;
        }
      }
      if (any) first[key] = changed;
    }
  }
  for (const [key, data] of then) {
    if (!liveNow.has(key)) first[key] = { ...data, _exists: true };
  }
  const patches: Patch[] = [];
  if (Object.keys(first).length > 0) patches.push(first);
  if (Object.keys(second).length > 0) patches.push(second);
  return patches;
}

/** The distinct keys of `patches`, in order of first appearance. */
export function patchKeys(patches: readonly Patch[]): string[] {
  if (patches.length === 1) return Object.keys(patches[0] as Patch);
  const keys = new Set<string>();
  for (const patch of patches) for (const key of Object.keys(patch)) keys.add(key);
  return Array.from(keys);
}
