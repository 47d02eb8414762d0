import type { CanvasStoreClient } from 'canvas-store-client';
import { applyShapeChange, type ShapeChange } from './shape-change.js';
import { type Fields, parseShape, type Shape, shapeFields, shapeKey } from './shape-model.js';
import { type Throttled, throttle } from './throttle.js';

/** Most document writes per second while a shape is being drawn, moved or resized. */
const WRITES_PER_SECOND = 25;

function sameNumbers(a: readonly number[], b: unknown): boolean {
  if (!Array.isArray(b) && !ArrayBuffer.isView(b)) return false;
  const other = b as unknown as ArrayLike<number>;
  if (a.length !== other.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== other[i]) return false;
  return true;
}

/**
 * Writes shapes that are being edited by a pointer drag. The page shows each
 * edit at once as a *draft*, while the document (and so the network) gets at
 * most {@link WRITES_PER_SECOND} writes, each holding only the fields that
 * changed. A growing stroke is written with `setArray`, so it travels as
 * buffer deltas. Each committed gesture is reported as one undo step.
 */
export class ShapeWriter {
  private readonly pending = new Map<string, Shape>();
  private readonly draftShapes = new Map<string, Shape>();
  /** Each drafted shape as the document had it before the gesture (null: absent). */
  private readonly before = new Map<string, Shape | null>();
  private readonly scheduleWrite: Throttled<[]>;

  /**
   * `onDraftChange` is called whenever {@link drafts} changed and the board
   * must be redrawn; `onCommit` gets what a finished gesture changed.
   */
  constructor(
    private readonly client: CanvasStoreClient,
    private readonly onDraftChange: () => void,
    private readonly onCommit: (changes: ShapeChange[]) => void = () => {},
  ) {
    this.scheduleWrite = throttle(() => this.write(), 1000 / WRITES_PER_SECOND);
  }

  /** Shapes being edited, by id; they override the document when rendering. */
  get drafts(): ReadonlyMap<string, Shape> {
    return this.draftShapes;
  }

  /** Shows `shape` now and writes it to the document soon. */
  update(shape: Shape): void {
    if (!this.before.has(shape.id)) {
      const stored = this.client.get(shapeKey(shape.id));
      this.before.set(shape.id, (stored && parseShape(shape.id, stored)) ?? null);
    }
    this.draftShapes.set(shape.id, shape);
    this.pending.set(shape.id, shape);
    this.onDraftChange();
    this.scheduleWrite();
  }

  /** Writes everything pending and ends the drafts (the document now has them). */
  commit(): void {
    this.scheduleWrite.cancel();
    this.write();
    const changes = [...this.draftShapes.values()].map((after) => ({
      id: after.id,
      before: this.before.get(after.id) ?? null,
      after,
    }));
    this.draftShapes.clear();
    this.before.clear();
    this.onDraftChange();
    if (changes.length > 0) this.onCommit(changes);
  }

  /**
   * Takes the gesture back: drops writes not yet made and writes every
   * drafted shape back to how it was before (a shape the gesture created is
   * deleted). Nothing is recorded for undo.
   */
  revert(): void {
    this.scheduleWrite.cancel();
    this.pending.clear();
    const reverts: ShapeChange[] = [];
    for (const [id, before] of this.before) {
      const stored = this.client.get(shapeKey(id));
      const now = (stored && parseShape(id, stored)) ?? null;
      if (now !== null) reverts.push({ id, before: now, after: before });
    }
    this.client.transact(() => {
      for (const change of reverts) applyShapeChange(this.client, change);
    });
    this.draftShapes.clear();
    this.before.clear();
    this.onDraftChange();
  }

  private write(): void {
    if (this.pending.size === 0) return;
    const shapes = [...this.pending.values()];
    this.pending.clear();
    this.client.transact(() => {
      for (const shape of shapes) this.writeShape(shape);
    });
  }

  private writeShape(shape: Shape): void {
    const key = shapeKey(shape.id);
    const stored: Fields | undefined = this.client.get(key);
    const fields = shapeFields(shape);
    const changed: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(fields)) {
      // A shape deleted meanwhile (or never written) gets all its fields, so it is whole again.
      if (!stored || stored[name] !== value) changed[name] = value;
    }
    if (Object.keys(changed).length > 0) this.client.set(key, changed);
    if (shape.points && !sameNumbers(shape.points, stored?.points)) {
      this.client.setArray(key, 'points', [...shape.points]);
    }
  }
}
