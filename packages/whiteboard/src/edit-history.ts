import type { CanvasStoreClient } from 'canvas-store-client';
import { applyShapeChange, changesNothing, invertChange, type ShapeChange } from './shape-change.js';

/** Most undo steps kept; older ones are forgotten. */
const MAX_STEPS = 200;

/**
 * Undo and redo of this user's own edits. Each step is what one gesture or
 * command changed (a drawn shape, a move, a recolour, a deletion, a text
 * edit). Undo and redo are ordinary edits written through the client (see
 * {@link applyShapeChange}), so they sync, persist and work offline like any
 * other; other users' edits are never undone, and fields they changed since
 * are left alone. The history is local to this tab and not kept across reloads.
 */
export class EditHistory {
  private readonly undoStack: ShapeChange[][] = [];
  private readonly redoStack: ShapeChange[][] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly client: CanvasStoreClient) {}

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Records a step that was just written. Changes that change nothing are left out. */
  record(changes: readonly ShapeChange[]): void {
    const step = changes.filter((change) => !changesNothing(change));
    if (step.length === 0) return;
    this.undoStack.push(step);
    if (this.undoStack.length > MAX_STEPS) this.undoStack.shift();
    this.redoStack.length = 0;
    this.changed();
  }

  /** Writes the last step's inverse; returns whether there was a step. */
  undo(): boolean {
    const step = this.undoStack.pop();
    if (!step) return false;
    this.write(step.map(invertChange).reverse());
    this.redoStack.push(step);
    this.changed();
    return true;
  }

  /** Writes the last undone step again; returns whether there was one. */
  redo(): boolean {
    const step = this.redoStack.pop();
    if (!step) return false;
    this.write(step);
    this.undoStack.push(step);
    this.changed();
    return true;
  }

  /** Calls `listener` after every change of {@link canUndo}/{@link canRedo}. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(changes: readonly ShapeChange[]): void {
    this.client.transact(() => {
      for (const change of changes) applyShapeChange(this.client, change);
    });
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
