/**
 * The clients of a convergence schedule: the published `WebsocketAdapter`
 * with an app model (the interop harness's {@link TestClient}) and our
 * `canvas-store-client`. Both act on the schedule's intents the way an app
 * would and nothing more: no timing of pulls, edits, deletions or reconnects
 * around what the client handles badly.
 */
import { CanvasStoreClient } from 'canvas-store-client';
import { WebSocket } from 'ws';
import { type ClientEnvironment, type DocModel, plain, TestClient, wireOf } from '../client-harness.js';
import { wholeComponent } from './schedule.js';

/** Which client library a peer runs. */
export type ClientKind = 'published' | 'ours';

/** What a schedule asks of one client. */
export interface Peer {
  readonly clientId: string;
  /** Opens the first connection. */
  start(): Promise<void>;
  /** True once connected and synced for the first time. */
  ready(): boolean;
  /** The live document the app sees, as plain JSON. */
  document(): DocModel;
  /** Creates `key` whole (with `fields` on top) when the app does not see it, else writes `fields`. */
  touch(key: string, fields: Record<string, unknown>, value: number): void;
  /** Deletes `key` if the app sees it. */
  remove(key: string): void;
  /** Appends `values` to the `points` array of `key` (creating the key whole when unseen). */
  append(key: string, values: number[], value: number): void;
  /** Deliberately offline (the app's disconnect). */
  goOffline(): void;
  /** Back online (the app's reconnect). */
  goOnline(): void;
  /** One frame of the app loop: take in what arrived. */
  tick(): void;
  /** Why the client is not idle and caught up with `clock`, or null. */
  busy(clock: number): string | null;
  close(): void;
}

/** The published adapter and an app model, as an ECS app drives it. */
export class PublishedPeer implements Peer {
  /** The adapter and app model (for tests that drive a case step by step). */
  readonly client: TestClient;

  constructor(
    readonly clientId: string,
    roomId: string,
    url: string,
    env: ClientEnvironment,
  ) {
    this.client = new TestClient(clientId, roomId, url, env);
  }

  start(): Promise<void> {
    return this.client.connect();
  }

  ready(): boolean {
    return this.client.adapter.isOnline && wireOf(this.clientId)?.synced === true;
  }

  document(): DocModel {
    return plain(this.client.doc);
  }

  touch(key: string, fields: Record<string, unknown>, value: number): void {
    // The ECS sends a new component whole with `_exists: true`, a changed one as its changed fields.
    if (this.client.doc[key]) this.client.edit({ [key]: fields });
    else this.client.edit({ [key]: { _exists: true, ...wholeComponent(key, value), ...fields } });
  }

  remove(key: string): void {
    if (this.client.doc[key]) this.client.edit({ [key]: { _exists: false } });
  }

  append(key: string, values: number[], value: number): void {
    const current = this.client.doc[key];
    if (!current) {
      this.client.edit({ [key]: { _exists: true, ...wholeComponent(key, value), points: values } });
      return;
    }
    const points = Array.isArray(current.points) ? (current.points as number[]) : [];
    this.client.edit({ [key]: { points: [...points, ...values] } });
  }

  goOffline(): void {
    this.client.disconnect();
  }

  goOnline(): void {
    // A failed attempt (server down) makes the adapter retry on its own timer.
    this.client.reconnect().catch(() => {});
  }

  tick(): void {
    this.client.pull();
  }

  busy(clock: number): string | null {
    return this.client.busyReason(clock);
  }

  close(): void {
    this.client.close();
  }
}

/** Our client, `canvas-store-client`, on `ws` (or a subclass of it). */
export class OurPeer implements Peer {
  /** The client (for tests that drive a case step by step). */
  readonly client: CanvasStoreClient;

  constructor(
    readonly clientId: string,
    roomId: string,
    url: string,
    socketClass: new (address: string) => WebSocket = WebSocket,
  ) {
    this.client = new CanvasStoreClient({
      url,
      roomId,
      clientId,
      token: 't',
      WebSocket: socketClass,
      reconnect: { minDelayMs: 20, maxDelayMs: 500 },
      sendIntervalMs: 0,
      startOffline: true,
    });
  }

  async start(): Promise<void> {
    this.client.connect();
  }

  ready(): boolean {
    return this.client.status === 'online' && this.client.synced;
  }

  document(): DocModel {
    return plain(Object.fromEntries(this.client.document)) as DocModel;
  }

  touch(key: string, fields: Record<string, unknown>, value: number): void {
    if (this.client.get(key) === undefined)
      this.client.set(key, { ...wholeComponent(key, value), ...fields });
    else this.client.set(key, fields);
  }

  remove(key: string): void {
    if (this.client.get(key) !== undefined) this.client.delete(key);
  }

  append(key: string, values: number[], value: number): void {
    const current = this.client.get(key);
    if (current === undefined) {
      this.client.set(key, { ...wholeComponent(key, value), points: values });
      return;
    }
    const points = Array.isArray(current.points) ? (current.points as number[]) : [];
    this.client.setArray(key, 'points', [...points, ...values]);
  }

  goOffline(): void {
    this.client.disconnect();
  }

  goOnline(): void {
    this.client.connect();
  }

  tick(): void {}

  busy(): string | null {
    return ourClientBusy(this.client);
  }

  close(): void {
    this.client.close();
  }
}

/** Why our client is not online, synced and with every edit confirmed, or null. */
export function ourClientBusy(client: CanvasStoreClient): string | null {
  if (client.status !== 'online') return `status ${client.status}`;
  if (!client.synced) return 'not synced';
  if (client.pendingCount > 0) return `${client.pendingCount} unconfirmed key(s)`;
  return null;
}

/** A peer of `kind` in `roomId` on the server at `url`. */
export function createPeer(
  kind: ClientKind,
  clientId: string,
  roomId: string,
  url: string,
  env: ClientEnvironment,
): Peer {
  return kind === 'published'
    ? new PublishedPeer(clientId, roomId, url, env)
    : new OurPeer(clientId, roomId, url);
}
