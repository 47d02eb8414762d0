import { Room as PublishedRoom } from '@woven-ecs/canvas-store-server';
import { Room, type ServerMessage, type SessionPermission, silentLogger } from '../../../src/index.js';
import { FakeSocket } from '../../helpers/fake-socket.js';

/** One side of the comparison: a room and the fake sockets of its sessions. */
export interface Side {
  name: 'ours' | 'published';
  connect(clientId: string, permissions: SessionPermission): { sessionId: string; socket: FakeSocket };
  message(sessionId: string, frame: unknown): void;
  close(sessionId: string): void;
  clock(): number;
  /** Live components and their stamps (tombstones left out). */
  live(): {
    state: Record<string, Record<string, unknown>>;
    timestamps: Record<string, Record<string, number>>;
  };
}

/**
 * Our `Room`, with no storage so that every frame leaves synchronously, and
 * presence uncoalesced (`presenceTickMs: 0`): coalescing (SPEC R1, R2) is an
 * intended difference (docs/compatibility.md) that changes the frames compared
 * here; it has its own tests in test/big-rooms/ and in intended-differences.test.ts.
 */
export function ourSide(presenceTickMs = 0): Side {
  const room = new Room({ logger: silentLogger, presenceTickMs });
  return {
    name: 'ours',
    connect(clientId, permissions) {
      const socket = new FakeSocket();
      return { sessionId: room.handleSocketConnect({ socket, clientId, permissions }), socket };
    },
    message: (sessionId, frame) => room.handleSocketMessage(sessionId, JSON.stringify(frame)),
    close: (sessionId) => room.handleSocketClose(sessionId),
    clock: () => room.getTimestamp(),
    live: () => {
      const snapshot = JSON.parse(JSON.stringify(room.getSnapshot()));
      return { state: snapshot.state, timestamps: snapshot.timestamps };
    },
  };
}

/** The published side, which also tells the stamps of its tombstones. */
export interface PublishedSide extends Side {
  /** Key to deletion stamp, for every tombstone. */
  tombstones(): Map<string, number>;
}

/** The published server 2.x `Room`, driven through its public API only. */
export function publishedSide(): PublishedSide {
  const room = new PublishedRoom({});
  return {
    tombstones: () => {
      const snapshot = room.getSnapshot();
      const out = new Map<string, number>();
      for (const [key, fields] of Object.entries(snapshot.state)) {
        if (fields._exists === false) out.set(key, snapshot.timestamps[key]?._exists ?? 0);
      }
      return out;
    },
    name: 'published',
    connect(clientId, permissions) {
      const socket = new FakeSocket();
      return { sessionId: room.handleSocketConnect({ socket, clientId, permissions }), socket };
    },
    message: (sessionId, frame) => room.handleSocketMessage(sessionId, JSON.stringify(frame)),
    close: (sessionId) => room.handleSocketClose(sessionId),
    clock: () => room.getSnapshot().timestamp,
    live: () => {
      // Its snapshot holds tombstones too; the live document leaves them out.
      const snapshot = JSON.parse(JSON.stringify(room.getSnapshot()));
      const state: Record<string, Record<string, unknown>> = {};
      const timestamps: Record<string, Record<string, number>> = {};
      for (const [key, fields] of Object.entries(snapshot.state as Record<string, Record<string, unknown>>)) {
        if (fields._exists === false) continue;
        state[key] = fields;
        timestamps[key] = snapshot.timestamps[key] ?? {};
      }
      return { state, timestamps };
    },
  };
}

/** Parses and forgets what a socket received since the last call. */
export function drain(socket: FakeSocket): ServerMessage[] {
  const frames = socket.messages;
  socket.clear();
  return frames;
}
