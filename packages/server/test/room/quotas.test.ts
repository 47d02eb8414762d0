/**
 * SPEC B7 in the room: quotas per room (document keys, stored bytes,
 * tombstones included) and per client (ephemeral keys and bytes). A write
 * that would pass one is refused whole with an `error` frame of its own code,
 * is not acked, and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { ClockedDocument } from '../../src/document/clocked-document.js';
import { componentBytes } from '../../src/document/value-size.js';
import type { CommitBatch, IncrementalStorage, Room, RoomLimits, RoomSnapshot } from '../../src/index.js';
import { LARGE_REPLY_BYTES } from '../../src/room/room-limits.js';
import { deferred } from '../helpers/controllable-storage.js';
import { connect, createRoom, type FakeClient } from '../helpers/room-harness.js';

function roomWith(limits: Partial<RoomLimits>): Room {
  return createRoom({ limits });
}

function keys(
  from: number,
  count: number,
  extra: Record<string, unknown> = {},
): Record<string, Record<string, unknown>> {
  const patch: Record<string, Record<string, unknown>> = {};
  for (let i = from; i < from + count; i++) patch[`k${i}/C`] = { _exists: true, v: i, ...extra };
  return patch;
}

function write(
  client: FakeClient,
  messageId: string,
  documentPatches?: unknown[],
  ephemeralPatches?: unknown[],
): void {
  client.send({ type: 'patch', messageId, documentPatches, ephemeralPatches });
}

function lastError(client: FakeClient) {
  return client.socket.ofType('error').at(-1);
}

describe('[B7] room key quota', () => {
  it('[B7] a write that would pass maxRoomKeys is refused whole with room-key-quota, unacked, changing nothing', () => {
    const room = roomWith({ maxRoomKeys: 10 });
    const author = connect(room);
    const peer = connect(room);
    write(author, 'a', [keys(0, 8)]);
    peer.socket.clear();
    write(author, 'b', [keys(8, 3)]);
    expect(lastError(author)).toMatchObject({ code: 'room-key-quota', messageId: 'b' });
    expect(author.socket.ofType('ack').map((a) => a.messageId)).toEqual(['a']);
    expect(Object.keys(room.getSnapshot().state)).toHaveLength(8);
    expect(room.getTimestamp()).toBe(1);
    expect(peer.socket.ofType('patch')).toEqual([]);
    // Exactly up to the quota is fine.
    write(author, 'c', [keys(8, 2)]);
    expect(author.socket.ofType('ack').map((a) => a.messageId)).toEqual(['a', 'c']);
    expect(Object.keys(room.getSnapshot().state)).toHaveLength(10);
  });

  it('[B7] tombstones count until compacted; deleting and editing existing keys stays allowed at the quota', () => {
    const room = roomWith({ maxRoomKeys: 4 });
    const author = connect(room);
    write(author, 'a', [keys(0, 4)]);
    write(author, 'del', [{ 'k0/C': { _exists: false } }]);
    write(author, 'edit', [{ 'k1/C': { v: 'edited' } }]);
    expect(author.socket.ofType('ack').map((a) => a.messageId)).toEqual(['a', 'del', 'edit']);
    // k0 is a tombstone: still counted, so a fifth key is refused...
    write(author, 'new', [{ 'k9/C': { _exists: true } }]);
    expect(lastError(author)).toMatchObject({ code: 'room-key-quota', messageId: 'new' });
    // ...but re-creating the deleted key adds no key.
    write(author, 'again', [{ 'k0/C': { _exists: true, v: 0 } }]);
    expect(author.socket.ofType('ack').map((a) => a.messageId)).toContain('again');
  });

  it('[B7] a reconnect carrying writes over the quota is still answered, its writes refused', () => {
    const room = roomWith({ maxRoomKeys: 2 });
    const author = connect(room);
    author.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2, documentPatches: [keys(0, 3)] });
    expect(lastError(author)).toMatchObject({ code: 'room-key-quota' });
    expect(author.socket.ofType('synced')).toHaveLength(1);
    expect(room.getTimestamp()).toBe(0);
  });
});

describe('[B7] room byte quota', () => {
  it('[B7] stored bytes count values, and a buffer delta counts the array it materialises', () => {
    const room = roomWith({ maxRoomBytes: 10_000 });
    const author = connect(room);
    write(author, 'small', [{ 'a/C': { _exists: true, s: 'x'.repeat(1_000) } }]);
    write(author, 'buf', [{ 'b/C': { _exists: true, b: { __buf: 1, len: 2_000, runs: [] } } }]);
    expect(lastError(author)).toMatchObject({ code: 'room-bytes-quota', messageId: 'buf' });
    expect(room.getSnapshot().state['b/C']).toBeUndefined();
    write(author, 'big', [{ 'a/C': { s: 'x'.repeat(20_000) } }]);
    expect(lastError(author)).toMatchObject({ code: 'room-bytes-quota', messageId: 'big' });
    expect((room.getSnapshot().state['a/C'] as { s: string }).s).toHaveLength(1_000);
  });

  it('[B7] a write that shrinks the room is allowed even when the room is over its quota', () => {
    const room = roomWith({ maxRoomBytes: 5_000 });
    const author = connect(room);
    write(author, 'fill', [{ 'a/C': { _exists: true, s: 'x'.repeat(4_500) } }]);
    write(author, 'shrink', [{ 'a/C': { s: 'short' } }]);
    write(author, 'del', [{ 'a/C': { _exists: false } }]);
    expect(author.socket.ofType('ack').map((a) => a.messageId)).toEqual(['fill', 'shrink', 'del']);
  });
});

describe('[B7] per-client ephemeral quotas', () => {
  it('[B7] ephemeral keys past maxEphemeralKeysPerClient are refused with ephemeral-key-quota; others are unaffected', () => {
    const room = roomWith({ maxEphemeralKeysPerClient: 5 });
    const attacker = connect(room, { clientId: 'attacker' });
    const other = connect(room, { clientId: 'other' });
    write(attacker, 'a', undefined, [keys(0, 5)]);
    write(attacker, 'b', undefined, [keys(5, 1)]);
    expect(lastError(attacker)).toMatchObject({ code: 'ephemeral-key-quota', messageId: 'b' });
    write(other, 'c', undefined, [keys(0, 5)]);
    expect(other.socket.ofType('error')).toEqual([]);
    // The attacker may still update and delete what it has.
    write(attacker, 'd', undefined, [{ 'k0/C': { _exists: false } }, { 'k1/C': { v: 'moved' } }]);
    write(attacker, 'e', undefined, [keys(9, 1)]);
    expect(attacker.socket.ofType('ack').map((a) => a.messageId)).toEqual(['a', 'd', 'e']);
  });

  it('[B7] ephemeral bytes past maxEphemeralBytesPerClient are refused with ephemeral-bytes-quota, document part included', () => {
    const room = roomWith({ maxEphemeralBytesPerClient: 2_000 });
    const author = connect(room);
    write(
      author,
      'a',
      [{ 'd/C': { _exists: true } }],
      [{ 'cursor/C': { _exists: true, s: 'x'.repeat(3_000) } }],
    );
    expect(lastError(author)).toMatchObject({ code: 'ephemeral-bytes-quota', messageId: 'a' });
    // Refused whole: the document part of the frame did not apply either.
    expect(room.getTimestamp()).toBe(0);
  });
});

describe('[B6] held frames and reconnect replies', () => {
  it('[B6] frames held during an auth-refresh are capped by bytes: 4432', () => {
    const gate = deferred<{ permissions: 'readwrite' }>();
    const room = createRoom({ onTokenRefresh: () => gate.promise, limits: { maxQueuedBytes: 10_000 } });
    const client = connect(room);
    client.send({ type: 'auth-refresh', token: 't' });
    const frame = JSON.stringify({
      type: 'patch',
      messageId: 'm',
      documentPatches: [{ 'a/C': { s: 'x'.repeat(3_000) } }],
    });
    for (let i = 0; i < 3; i++) client.sendRaw(frame);
    expect(client.socket.closed).toBeNull();
    client.sendRaw(frame);
    expect(client.socket.closed?.code).toBe(4432);
  });

  it('[B6] a second reconnect while a whole-document reply waits for durability closes the session as a slow consumer (4433)', async () => {
    const commitGate = deferred();
    const storage: IncrementalStorage = {
      load: async (): Promise<RoomSnapshot | null> => null,
      save: async () => {},
      commit: async (_batch: CommitBatch) => commitGate.promise,
    };
    const room = createRoom({ storage });
    await room.load();
    const writer = connect(room);
    const reader = connect(room, { permissions: 'readonly' });
    write(writer, 'w', [{ 'a/C': { _exists: true, v: 1 } }]);
    const reconnect = { type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 };
    // A small reply may be queued twice: the backlog bound covers it.
    reader.send(reconnect);
    reader.send(reconnect);
    expect(reader.socket.closed).toBeNull();
    // A whole-document reply (at least LARGE_REPLY_BYTES) may be queued once.
    write(writer, 'big', [{ 'b/C': { _exists: true, s: 'x'.repeat(LARGE_REPLY_BYTES) } }]);
    reader.send(reconnect);
    expect(reader.socket.closed).toBeNull();
    reader.send(reconnect);
    expect(reader.socket.closed?.code).toBe(4433);
    commitGate.resolve();
  });
});

describe('[B7] byte accounting stays exact', () => {
  it('[B7] storedBytes equals the sum of the components measured afresh after mixed writes', () => {
    const doc = new ClockedDocument();
    const ops: Record<string, Record<string, unknown>>[] = [
      { 'a/C': { _exists: true, x: 1, s: 'hello' } },
      { 'a/C': { s: 'a longer string value' }, 'b/C': { _exists: true, o: { deep: [1, 2, { k: 'v' }] } } },
      { 'b/C': { _exists: false } },
      { 'c/C': { _exists: true, b: { __buf: 1, len: 50, runs: [[3, [1, 2]]] } } },
      { 'c/C': { b: { __buf: 1, len: 10, runs: [] } } },
      { 'b/C': { _exists: true, y: true } },
      { 'z/C': { _exists: false } },
    ];
    for (const op of ops) {
      doc.applyPatches([op]);
      const snapshot = doc.toSnapshot({ includeTombstones: true });
      let expected = 0;
      for (const [key, fields] of Object.entries(snapshot.state)) expected += componentBytes(key, fields);
      expect(doc.storedBytes).toBe(expected);
      expect(ClockedDocument.fromSnapshot(snapshot).storedBytes).toBe(expected);
    }
  });
});
