/**
 * The two servers under test behind one small interface. Only the public Room
 * API is used: `handleSocketConnect`, `handleSocketMessage`, `getSnapshot`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Room as PublishedRoom } from '@woven-ecs/canvas-store-server';
import { Room as OurRoom } from 'canvas-store-server';

function installedVersion(name: string): string {
  try {
    const file = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version);
  } catch {
    return 'unknown';
  }
}

/** The socket both servers accept. */
interface BenchSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The part of the Room API the benchmarks use, common to both servers. */
export interface BenchRoom {
  handleSocketConnect(options: { socket: BenchSocket; clientId: string; permissions: 'readwrite' }): string;
  handleSocketMessage(sessionId: string, data: string): void;
  getSnapshot(): { timestamp: number; state: Record<string, Record<string, unknown>> };
}

/** A room plus how to read its clock and how to shut it down. */
interface RoomHandle {
  room: BenchRoom;
  clock(): number;
  dispose(): void;
}

/** One implementation under test. */
export interface Impl {
  id: 'ours' | 'published';
  label: string;
  create(): RoomHandle;
}

/**
 * Our per-session rate limits (100 frames/s, 4 MiB/s, SPEC B4) would close the
 * writer a few hundred frames into the stream; the published server has none,
 * so ours is benchmarked with them out of the way. The token buckets still run.
 */
const UNTHROTTLED = {
  framesPerSecond: 1e12,
  frameBurst: 1e12,
  bytesPerSecond: 1e15,
  byteBurst: 1e15,
} as const;

export const OURS: Impl = {
  id: 'ours',
  label: `canvas-store-server@${installedVersion('canvas-store-server')}`,
  create() {
    const room = new OurRoom({ limits: UNTHROTTLED });
    return {
      room,
      clock: () => room.getTimestamp(),
      dispose: () => void room.close({ flush: false }),
    };
  },
};

export const PUBLISHED: Impl = {
  id: 'published',
  label: `@woven-ecs/canvas-store-server@${installedVersion('@woven-ecs/canvas-store-server')}`,
  create() {
    const room = new PublishedRoom({});
    return {
      room,
      clock: () => room.getSnapshot().timestamp,
      dispose: () => room.close({ flush: false }),
    };
  },
};

export const IMPLS: readonly Impl[] = [OURS, PUBLISHED];

/** A socket that drops everything it is sent. */
export function noopSocket(): BenchSocket {
  return { send() {}, close() {} };
}

/** A socket that counts frames and closes, for after-the-fact sanity checks. */
interface CountingSocket extends BenchSocket {
  sent: number;
  closed: boolean;
  last: string | undefined;
}

export function countingSocket(): CountingSocket {
  const socket: CountingSocket = {
    sent: 0,
    closed: false,
    last: undefined,
    send(data: string) {
      socket.sent++;
      socket.last = data;
    },
    close() {
      socket.closed = true;
    },
  };
  return socket;
}

/** A socket that keeps what it is sent while `armed`. */
export interface CapturingSocket extends BenchSocket {
  armed: boolean;
  frames: string[];
}

export function capturingSocket(): CapturingSocket {
  const socket: CapturingSocket = {
    armed: false,
    frames: [],
    send(data: string) {
      if (socket.armed) socket.frames.push(data);
    },
    close() {},
  };
  return socket;
}
