/** The selected shape (one at a time), observable. */
export class Selection {
  private current: string | null = null;
  private readonly listeners = new Set<() => void>();

  /** The selected shape id, or null. */
  get id(): string | null {
    return this.current;
  }

  /** Selects a shape (or nothing, with null). */
  set(id: string | null): void {
    if (id === this.current) return;
    this.current = id;
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
