import { describe, expect, it } from 'vitest';
import type { CommitBatch } from '../../src/index.js';
import { GatedStorage } from '../helpers/gated-storage.js';
import { connect, createRoom } from '../helpers/room-harness.js';

const nextIteration = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('commit pipeline', () => {
  it('[O4][P2] batches sealed behind an in-flight commit are committed together, latest state per key', async () => {
    const storage = new GatedStorage();
    const room = createRoom({ storage });
    const writer = connect(room);
    writer.socket.clear();
    writer.send({ type: 'patch', messageId: 'm1', documentPatches: [{ 'a/S': { _exists: true, v: 1 } }] });
    await nextIteration();
    expect(storage.commits).toHaveLength(1);
    // Two more iterations of writes while the first commit is still in flight.
    writer.send({
      type: 'patch',
      messageId: 'm2',
      documentPatches: [{ 'a/S': { v: 2 }, 'b/S': { _exists: true } }],
    });
    await nextIteration();
    writer.send({ type: 'patch', messageId: 'm3', documentPatches: [{ 'a/S': { v: 3 } }] });
    await nextIteration();
    expect(writer.socket.ofType('ack')).toEqual([]);
    storage.open();
    await nextIteration();
    expect(storage.commits).toHaveLength(2);
    const merged = storage.commits[1] as CommitBatch;
    expect(merged.timestamp).toBe(3);
    expect(Object.fromEntries(merged.components.map((c) => [c.key, c.data]))).toEqual({
      'a/S': { _exists: true, v: 3 },
      'b/S': { _exists: true },
    });
    // The first batch's ack is out; the merged batch's acks wait for its commit, then leave in order.
    expect(writer.socket.ofType('ack').map((ack) => ack.messageId)).toEqual(['m1']);
    storage.open();
    await nextIteration();
    expect(writer.socket.ofType('ack').map((ack) => [ack.messageId, ack.timestamp])).toEqual([
      ['m1', 1],
      ['m2', 2],
      ['m3', 3],
    ]);
  });
});
