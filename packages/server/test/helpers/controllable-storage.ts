import type { RoomSnapshot, Storage } from '../../src/index.js';

/** A promise with its resolve and reject exposed, for steps a test releases explicitly. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A seed-form Storage (only `load`/`save`) whose calls are counted and recorded,
 * and whose loads and saves can be held until the test releases them, or failed.
 */
export class ControllableStorage implements Storage {
  /** What a successful save stored last; what `load` returns. */
  stored: RoomSnapshot | null;
  loadCalls = 0;
  /** Every snapshot handed to `save`, copied at the time of the call. */
  readonly saved: RoomSnapshot[] = [];
  /** When set, `load` waits for it before answering. */
  loadGate: Promise<void> | null = null;
  /** When set, `save` waits for it before storing. */
  saveGate: Promise<void> | null = null;
  /** When set, `load` throws it (after the gate). */
  loadError: unknown = undefined;
  /** When set, `save` throws it (after the gate) and stores nothing. */
  saveError: unknown = undefined;

  constructor(initial: RoomSnapshot | null = null) {
    this.stored = initial === null ? null : structuredClone(initial);
  }

  /** Holds every following load until the returned function is called. */
  holdLoads(): () => void {
    const gate = deferred();
    this.loadGate = gate.promise;
    return () => {
      this.loadGate = null;
      gate.resolve();
    };
  }

  /** Holds every following save until the returned function is called. */
  holdSaves(): () => void {
    const gate = deferred();
    this.saveGate = gate.promise;
    return () => {
      this.saveGate = null;
      gate.resolve();
    };
  }

  async load(): Promise<RoomSnapshot | null> {
    this.loadCalls++;
    if (this.loadGate) await this.loadGate;
    if (this.loadError !== undefined) throw this.loadError;
    return this.stored === null ? null : structuredClone(this.stored);
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    const copy = structuredClone(snapshot);
    this.saved.push(copy);
    if (this.saveGate) await this.saveGate;
    if (this.saveError !== undefined) throw this.saveError;
    this.stored = copy;
  }
}

/** Lets pending promise callbacks and I/O callbacks run (real timers only). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
