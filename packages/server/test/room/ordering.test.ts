import { describe, expect, it } from 'vitest';
import type { Room, ServerMessage } from '../../src/index.js';
import type { FakeSocket } from '../helpers/fake-socket.js';
import { clearAll, sendPatch, sendReconnect } from '../helpers/room-assertions.js';
import { connect, createRoom } from '../helpers/room-harness.js';

/** Timestamps of the document broadcasts a socket received, in arrival order. */
function documentBroadcastClocks(socket: FakeSocket): number[] {
  return socket
    .ofType('patch')
    .filter((m) => m.documentPatches !== undefined)
    .map((m) => m.timestamp as number);
}

/** Checks O2 for one author: every broadcast of a clock above an ack's clock comes after that ack. */
function expectAcksBeforeLaterBroadcasts(messages: ServerMessage[]): void {
  messages.forEach((message, index) => {
    if (message.type !== 'ack') return;
    const earlierLaterBroadcast = messages
      .slice(0, index)
      .find((m) => m.type === 'patch' && m.timestamp !== undefined && m.timestamp > message.timestamp);
    expect(earlierLaterBroadcast, `broadcast before ack ${message.messageId}`).toBeUndefined();
  });
}

describe('arrival order (O1)', () => {
  it('[O1][D2] frames of one session apply in arrival order: the last write wins', () => {
    const room = createRoom();
    const a = connect(room);
    for (let i = 1; i <= 20; i++) sendPatch(a, `m${i}`, [{ k: { _exists: true, x: i } }]);
    expect(a.socket.ofType('ack').map((m) => [m.messageId, m.timestamp])).toEqual(
      Array.from({ length: 20 }, (_, i) => [`m${i + 1}`, i + 1]),
    );
    expect(room.getSnapshot().state).toEqual({ k: { _exists: true, x: 20 } });
  });
});

describe('ack before later broadcasts (O2)', () => {
  it('[O2] interleaved writers: each author gets its ack before any broadcast of a later write', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    clearAll(a, b);
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    sendPatch(b, 'b1', [{ k: { _exists: true, x: 2 } }]);
    sendPatch(a, 'a2', [{ k: { _exists: true, y: 3 } }]);
    expect(a.socket.messages).toEqual([
      { type: 'ack', messageId: 'a1', timestamp: 1 },
      { type: 'patch', clientId: 'bob', documentPatches: [{ k: { _exists: true, x: 2 } }], timestamp: 2 },
      { type: 'ack', messageId: 'a2', timestamp: 3 },
    ]);
    expect(b.socket.messages).toEqual([
      { type: 'patch', clientId: 'alice', documentPatches: [{ k: { _exists: true, x: 1 } }], timestamp: 1 },
      { type: 'ack', messageId: 'b1', timestamp: 2 },
      { type: 'patch', clientId: 'alice', documentPatches: [{ k: { _exists: true, y: 3 } }], timestamp: 3 },
    ]);
  });

  it('[O2][O3] a server patch made inside onDocumentPatch comes after the ack of the write', () => {
    let reentered = false;
    const room: Room = createRoom({
      onDocumentPatch: (r) => {
        if (reentered) return;
        reentered = true;
        r.applyServerPatch([{ audit: { count: 1 } }]);
      },
    });
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    clearAll(a, b);
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    expect(room.getSnapshot().timestamp).toBe(2);
    const aMessages = a.socket.messages;
    expect.soft(documentBroadcastClocks(b.socket), 'O3 for the other session').toEqual([1, 2]);
    expect
      .soft(
        aMessages.map((m) => m.type),
        'O2 for the author',
      )
      .toEqual(['ack', 'patch']);
    expectAcksBeforeLaterBroadcasts(aMessages);
    expect(aMessages.find((m) => m.type === 'patch')).toEqual({
      type: 'patch',
      clientId: '',
      documentPatches: [{ audit: { count: 1 } }],
      timestamp: 2,
    });
  });

  it('[O2][O3] a server patch made inside onDataChange keeps ack and clock order too', () => {
    let reentered = false;
    const room: Room = createRoom({
      onDataChange: (r) => {
        if (reentered) return;
        reentered = true;
        r.applyServerPatch([{ audit: { count: 1 } }]);
      },
    });
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    clearAll(a, b);
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    expect.soft(documentBroadcastClocks(b.socket), 'O3 for the other session').toEqual([1, 2]);
    expect
      .soft(
        a.socket.messages.map((m) => m.type),
        'O2 for the author',
      )
      .toEqual(['ack', 'patch']);
  });
});

describe('document broadcasts in clock order (O3)', () => {
  it('[O3] many writers: every session sees document broadcasts in strictly increasing clock order', () => {
    const room = createRoom();
    const clients = Array.from({ length: 5 }, (_, i) => connect(room, { clientId: `c${i}` }));
    clearAll(...clients);
    for (let round = 0; round < 10; round++) {
      clients.forEach((client, i) => {
        sendPatch(client, `r${round}-${i}`, [{ [`e${i}/Pos`]: { x: round } }]);
      });
      room.applyServerPatch([{ 'SINGLETON/round': { n: round } }]);
    }
    for (const client of clients) {
      const clocks = client.socket.messages.flatMap((m) =>
        (m.type === 'patch' && m.timestamp !== undefined) || m.type === 'ack' ? [m.timestamp as number] : [],
      );
      expect(clocks).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expectAcksBeforeLaterBroadcasts(client.socket.messages);
    }
  });

  it('[O3][D7] after a reconnect reply, later broadcasts are above its timestamp', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    sendPatch(a, 'a2', [{ k: { _exists: true, x: 2 } }]);
    const b = connect(room, { clientId: 'bob' });
    b.socket.clear();
    sendReconnect(b, 0);
    sendPatch(a, 'a3', [{ k: { _exists: true, x: 3 } }]);
    expect(b.socket.messages).toEqual([
      { type: 'patch', clientId: '', documentPatches: [{ k: { _exists: true, x: 2 } }], timestamp: 2 },
      { type: 'synced', timestamp: 2 },
      { type: 'patch', clientId: 'alice', documentPatches: [{ k: { _exists: true, x: 3 } }], timestamp: 3 },
    ]);
  });

  it('[O3] a reconnect that writes is followed by broadcasts of higher clocks only', () => {
    const room = createRoom();
    const a = connect(room, { clientId: 'alice' });
    const b = connect(room, { clientId: 'bob' });
    sendPatch(a, 'a1', [{ k: { _exists: true, x: 1 } }]);
    clearAll(a, b);
    sendReconnect(b, 1, { documentPatches: [{ j: { _exists: true, y: 1 } }] });
    sendPatch(a, 'a2', [{ k: { _exists: true, x: 2 } }]);
    expect(b.socket.messages).toEqual([
      // D7: j was created after lastTimestamp and never deleted: no leading tombstone.
      {
        type: 'patch',
        clientId: '',
        documentPatches: [{ j: { _exists: true, y: 1 } }],
        timestamp: 2,
      },
      { type: 'synced', timestamp: 2 },
      { type: 'patch', clientId: 'alice', documentPatches: [{ k: { _exists: true, x: 2 } }], timestamp: 3 },
    ]);
    expect(documentBroadcastClocks(a.socket)).toEqual([2]);
  });
});
