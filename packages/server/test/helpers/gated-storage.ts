import type { CommitBatch, IncrementalStorage, RoomSnapshot } from '../../src/index.js';

/** An incremental storage whose commits wait until the test releases them (a slow or hung database). */
export class GatedStorage implements IncrementalStorage {
  readonly commits: CommitBatch[] = [];
  private release: (() => void) | null = null;

  async load(): Promise<RoomSnapshot | null> {
    return null;
  }

  async save(): Promise<void> {}

  commit(batch: CommitBatch): Promise<void> {
    this.commits.push(structuredClone(batch));
    return new Promise((resolve) => {
      this.release = resolve;
    });
  }

  /** Lets the commit in flight finish. */
  open(): void {
    this.release?.();
    this.release = null;
  }
}
