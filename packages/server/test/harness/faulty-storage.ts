/**
 * Wraps a real per-room storage so a test can make it fail or hang for a
 * while, as a storage whose disk or database is in trouble does, and then
 * recover. Every call made while a fault is on is counted.
 *
 * - `fail`: every call throws at once;
 * - `hang`: every call waits until the fault is lifted, then runs for real
 *   (the way a stalled disk or database answers late).
 */
import type { RoomSnapshot } from '../../src/document/room-snapshot.js';
import type { CommitBatch, IncrementalStorage, StoredRoom } from '../../src/storage/storage.js';

/** The fault a {@link FaultyStorage} injects. */
export type StorageFault = 'none' | 'fail' | 'hang';

/** Thrown by a storage under a `fail` fault. */
class InjectedStorageFault extends Error {
  constructor(operation: string) {
    super(`injected storage fault during ${operation}`);
    this.name = 'InjectedStorageFault';
  }
}

/** See the module comment. */
export class FaultyStorage implements IncrementalStorage {
  private fault: StorageFault = 'none';
  private release: Array<() => void> = [];
  /** Calls that failed or waited because of a fault, and commits that completed. */
  readonly counts = { failed: 0, hung: 0, commits: 0 };

  constructor(private readonly inner: IncrementalStorage) {}

  /** Switches the fault; lifting a hang lets every waiting call go on, in order. */
  set(fault: StorageFault): void {
    this.fault = fault;
    if (fault !== 'hang') {
      const waiting = this.release;
      this.release = [];
      for (const go of waiting) go();
    }
  }

  /** Calls waiting on a hang right now. */
  get waiting(): number {
    return this.release.length;
  }

  async load(): Promise<RoomSnapshot | null> {
    await this.gate('load');
    return this.inner.load();
  }

  async loadComponents(): Promise<StoredRoom | null> {
    await this.gate('load');
    if (this.inner.loadComponents) return this.inner.loadComponents();
    throw new Error('the wrapped storage has no loadComponents');
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    await this.gate('save');
    await this.inner.save(snapshot);
  }

  async commit(batch: CommitBatch): Promise<void> {
    await this.gate('commit');
    await this.inner.commit(batch);
    this.counts.commits++;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private async gate(operation: string): Promise<void> {
    if (this.fault === 'fail') {
      this.counts.failed++;
      throw new InjectedStorageFault(operation);
    }
    if (this.fault === 'hang') {
      this.counts.hung++;
      await new Promise<void>((resolve) => this.release.push(resolve));
      // A fault switched from hang straight to fail fails the waiting call too.
      if ((this.fault as StorageFault) === 'fail') {
        this.counts.failed++;
        throw new InjectedStorageFault(operation);
      }
    }
  }
}
