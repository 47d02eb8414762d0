/** A listener of one event of `Events`. */
type Listener<T> = (payload: T) => void;

/**
 * A minimal typed event emitter. A listener that throws does not stop the
 * others or the emitter: its error is rethrown asynchronously, so it still
 * surfaces (console, test runner) without corrupting the caller's state.
 *
 * @example
 * ```ts
 * const events = new EventEmitter<{ ping: { n: number } }>();
 * const off = events.on('ping', ({ n }) => console.log(n));
 * events.emit('ping', { n: 1 });
 * off();
 * ```
 */
export class EventEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as Listener<never>;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Calls every listener of `event` with `payload`, in the order they were added. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of Array.from(set)) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** True when `event` has at least one listener. */
  has<K extends keyof Events>(event: K): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear();
  }
}
