import type {
  Patch,
  Room,
  RoomSnapshot,
  SessionPermission,
  SocketConnectOptions,
  Storage,
} from '../../src/index.js';
import { FakeSocket } from './fake-socket.js';
import type { FakeClient } from './room-harness.js';

/** Sends a `patch` frame. */
export function sendPatch(
  client: FakeClient,
  messageId: string,
  documentPatches?: Patch[],
  ephemeralPatches?: Patch[],
): void {
  const frame: Record<string, unknown> = { type: 'patch', messageId };
  if (documentPatches) frame.documentPatches = documentPatches;
  if (ephemeralPatches) frame.ephemeralPatches = ephemeralPatches;
  client.send(frame);
}

/** Sends a protocol-2 `reconnect` frame. */
export function sendReconnect(
  client: FakeClient,
  lastTimestamp: number,
  parts: { documentPatches?: Patch[]; ephemeralPatches?: Patch[]; protocolVersion?: number } = {},
): void {
  client.send({
    type: 'reconnect',
    lastTimestamp,
    protocolVersion: parts.protocolVersion ?? 2,
    ...(parts.documentPatches ? { documentPatches: parts.documentPatches } : {}),
    ...(parts.ephemeralPatches ? { ephemeralPatches: parts.ephemeralPatches } : {}),
  });
}

/** Forgets the frames every given client received so far. */
export function clearAll(...clients: FakeClient[]): void {
  for (const client of clients) client.socket.clear();
}

/** Connects a fake socket with the full set of `handleSocketConnect` options (e.g. `onTokenRefresh`). */
export function connectWith(
  room: Room,
  options: Omit<SocketConnectOptions, 'socket' | 'permissions'> & { permissions?: SessionPermission },
): FakeClient {
  const socket = new FakeSocket();
  const sessionId = room.handleSocketConnect({
    ...options,
    socket,
    permissions: options.permissions ?? 'readwrite',
  });
  return {
    socket,
    sessionId,
    clientId: options.clientId,
    send: (frame) => room.handleSocketMessage(sessionId, JSON.stringify(frame)),
    sendRaw: (text) => room.handleSocketMessage(sessionId, text),
  };
}

/** A promise with its resolve/reject exposed. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A load/save storage that records every snapshot it is given (deep copies). */
export class RecordingStorage implements Storage {
  readonly saved: RoomSnapshot[] = [];
  loads = 0;

  constructor(private initial: RoomSnapshot | null = null) {}

  async load(): Promise<RoomSnapshot | null> {
    this.loads++;
    const latest = this.saved.at(-1) ?? this.initial;
    return latest === null ? null : structuredClone(latest);
  }

  async save(snapshot: RoomSnapshot): Promise<void> {
    this.saved.push(structuredClone(snapshot));
  }

  /** The last snapshot saved, or throws when nothing was saved. */
  get last(): RoomSnapshot {
    const snapshot = this.saved.at(-1);
    if (!snapshot) throw new Error('nothing saved yet');
    return snapshot;
  }
}
