import { describe, expect, it } from 'vitest';
import { connect, createRoom } from '../helpers/room-harness.js';

describe('room smoke', () => {
  it('[A1][A3][D1] acks the author and broadcasts to others', () => {
    const room = createRoom();
    const a = connect(room);
    const b = connect(room);
    a.socket.clear();
    b.socket.clear();
    a.send({ type: 'patch', messageId: 'm1', documentPatches: [{ 'e1/Pos': { _exists: true, x: 1 } }] });
    expect(a.socket.messages).toEqual([{ type: 'ack', messageId: 'm1', timestamp: 1 }]);
    expect(b.socket.messages).toEqual([
      {
        type: 'patch',
        clientId: a.clientId,
        documentPatches: [{ 'e1/Pos': { _exists: true, x: 1 } }],
        timestamp: 1,
      },
    ]);
    expect(room.getSnapshot()).toEqual({
      timestamp: 1,
      state: { 'e1/Pos': { _exists: true, x: 1 } },
      timestamps: { 'e1/Pos': { _exists: 1, x: 1 } },
    });
  });
});
