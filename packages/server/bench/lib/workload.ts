/**
 * Deterministic workloads of pre-serialized client frames (SPEC section 3), so
 * every implementation handles byte-identical strings.
 */

import { seededRandom } from '../../test/helpers/seeded-random.js';

/** A component: field name to value. */
type Component = Record<string, unknown>;

/** The 8 data fields of a benchmark shape; every component also carries `_exists: true`. */
const SHAPE_FIELDS = ['x', 'y', 'width', 'height', 'rotation', 'fill', 'stroke', 'text'] as const;
type ShapeField = (typeof SHAPE_FIELDS)[number];

const COLORS = ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00', '#ffffff', '#868e96', '#9c36b5'];
const WORDS = ['note', 'todo', 'idea', 'draft', 'review', 'ship it', 'meeting', 'sketch', 'plan', 'done'];

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function fieldValue(field: ShapeField, rng: () => number): unknown {
  switch (field) {
    case 'x':
    case 'y':
      return round2(rng() * 4000 - 2000);
    case 'width':
    case 'height':
      return round2(20 + rng() * 480);
    case 'rotation':
      return rng() < 0.8 ? 0 : round2(rng() * Math.PI * 2);
    case 'fill':
    case 'stroke':
      return pick(rng, COLORS);
    case 'text':
      return `${pick(rng, WORDS)} ${Math.floor(rng() * 1000)}`;
  }
}

/** The storage key of entity `id`'s shape component. */
export function shapeKey(id: number): string {
  return `e${id}/Shape`;
}

/** A freshly created shape: `_exists` plus the 8 data fields. */
function newShape(rng: () => number): Component {
  const shape: Component = { _exists: true };
  for (const field of SHAPE_FIELDS) shape[field] = fieldValue(field, rng);
  return shape;
}

/** An update of 1-3 distinct data fields of a shape. */
function shapeUpdate(rng: () => number): Component {
  const count = 1 + Math.floor(rng() * 3);
  const update: Component = {};
  while (Object.keys(update).length < count) {
    const field = pick(rng, SHAPE_FIELDS);
    update[field] = fieldValue(field, rng);
  }
  return update;
}

/** One `patch` frame holding a single patch object. */
export function patchFrame(messageId: string, patch: Record<string, Component>): string {
  return JSON.stringify({ type: 'patch', messageId, documentPatches: [patch] });
}

/** A `reconnect` frame of protocol version 2 without patches. */
export function reconnectFrame(lastTimestamp: number): string {
  return JSON.stringify({ type: 'reconnect', lastTimestamp, protocolVersion: 2 });
}

/**
 * Frames creating shapes `0 .. count-1`, `perFrame` per frame. Each frame is
 * one document write, so applying them advances the clock by `frames.length`.
 */
export function creationFrames(count: number, perFrame: number, seed: number, idPrefix: string): string[] {
  const rng = seededRandom(seed);
  const frames: string[] = [];
  for (let first = 0; first < count; first += perFrame) {
    const patch: Record<string, Component> = {};
    for (let id = first; id < Math.min(count, first + perFrame); id++) patch[shapeKey(id)] = newShape(rng);
    frames.push(patchFrame(`${idPrefix}${frames.length}`, patch));
  }
  return frames;
}

/** Counts of the operations in a {@link PatchStream}. */
interface StreamMix {
  creates: number;
  updates: number;
  deletes: number;
}

/** A stream of realistic editing frames on top of a pre-built document. */
export interface PatchStream {
  /** Frames building the starting document (not measured). */
  baseFrames: string[];
  /** The measured frames; every one writes at least one key. */
  frames: string[];
  /** Total bytes of `frames` (UTF-16 length, all ASCII). */
  bytes: number;
  mix: StreamMix;
}

/** Parameters of {@link patchStream}. */
interface PatchStreamSpec {
  baseComponents: number;
  frames: number;
  seed: number;
}

/**
 * Editing traffic as a canvas client batches it: each frame holds 1-3
 * component operations on distinct keys (60% one, 25% two, 15% three); an
 * operation is an update of 1-3 fields of a live shape (75%), the creation of
 * a new shape with all 8 fields (20%) or a deletion (5%).
 */
export function patchStream(spec: PatchStreamSpec): PatchStream {
  const baseFrames = creationFrames(spec.baseComponents, 1000, spec.seed, 'base');
  const rng = seededRandom(spec.seed + 1);
  const live: number[] = Array.from({ length: spec.baseComponents }, (_, id) => id);
  let nextId = spec.baseComponents;
  const mix: StreamMix = { creates: 0, updates: 0, deletes: 0 };
  const frames: string[] = [];
  let bytes = 0;
  for (let i = 0; i < spec.frames; i++) {
    const roll = rng();
    const ops = roll < 0.6 ? 1 : roll < 0.85 ? 2 : 3;
    const patch: Record<string, Component> = {};
    for (let op = 0; op < ops; op++) {
      const kind = rng();
      if (kind < 0.2 || live.length < 10) {
        const id = nextId++;
        patch[shapeKey(id)] = newShape(rng);
        live.push(id);
        mix.creates++;
        continue;
      }
      const index = Math.floor(rng() * live.length);
      const id = live[index] as number;
      const key = shapeKey(id);
      if (key in patch) continue; // one operation per key and frame
      if (kind < 0.25) {
        patch[key] = { _exists: false };
        live[index] = live[live.length - 1] as number;
        live.pop();
        mix.deletes++;
      } else {
        patch[key] = shapeUpdate(rng);
        mix.updates++;
      }
    }
    const frame = patchFrame(`m${i}`, patch);
    bytes += frame.length;
    frames.push(frame);
  }
  return { baseFrames, frames, bytes, mix };
}
