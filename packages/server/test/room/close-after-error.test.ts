/**
 * SPEC B2/B4 with O4: a session the room closes for what it sent (rate limit,
 * oversized frame) first gets the `error` frame saying why, and the acks of
 * its writes accepted before it, even while those writes wait for a slow
 * commit. Frames it sends after the decision are ignored.
 */
import { describe, expect, it } from 'vitest';
import type { CommitBatch, IncrementalStorage, RoomSnapshot } from '../../src/index.js';
import { deferred } from '../helpers/controllable-storage.js';
import { connect, createRoom } from '../helpers/room-harness.js';

function stalledStorage() {
  const commitGate = deferred();
  const storage: IncrementalStorage = {
    load: async (): Promise<RoomSnapshot | null> => null,
    save: async () => {},
    commit: async (_batch: CommitBatch) => commitGate.promise,
  };
  return { storage, commitGate };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('[B4][O4] a session closed for its frames hears why first', () => {
  it('[B4][O4] rate-limited while its writes wait for a commit: acks, then the error, then 4429', async () => {
    const { storage, commitGate } = stalledStorage();
    const room = createRoom({ storage, limits: { framesPerSecond: 1, frameBurst: 3 } });
    await room.load();
    const flooder = connect(room);
    for (let i = 0; i < 6; i++) {
      flooder.send({
        type: 'patch',
        messageId: `m${i}`,
        documentPatches: [{ [`k${i}/C`]: { _exists: true, i } }],
      });
    }
    // Nothing leaves before the accepted writes are durable (O4), the close neither.
    expect(flooder.socket.closed).toBeNull();
    commitGate.resolve();
    for (let i = 0; i < 5 && !flooder.socket.closed; i++) await settle();
    expect(flooder.socket.closed?.code).toBe(4429);
    const acks = flooder.socket.ofType('ack');
    const errors = flooder.socket.ofType('error');
    expect(acks.length).toBeGreaterThanOrEqual(1);
    expect(acks.length).toBeLessThan(6);
    expect(errors).toContainEqual(expect.objectContaining({ code: 'rate-limited' }));
    // Only the writes accepted before the limit are in the document.
    expect(room.getTimestamp()).toBe(acks.length);
  });

  it('[B4] without a pending commit the error and the close leave at once', () => {
    const room = createRoom({ limits: { framesPerSecond: 1, frameBurst: 2 } });
    const flooder = connect(room);
    for (let i = 0; i < 4; i++) {
      flooder.send({
        type: 'patch',
        messageId: `m${i}`,
        documentPatches: [{ [`k${i}/C`]: { _exists: true, i } }],
      });
    }
    expect(flooder.socket.closed?.code).toBe(4429);
    expect(flooder.socket.ofType('error')).toContainEqual(expect.objectContaining({ code: 'rate-limited' }));
  });
});
