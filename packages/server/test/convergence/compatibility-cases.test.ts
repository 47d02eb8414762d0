/**
 * The compatibility cases of docs/compatibility-cases.md, step by step: each
 * is a situation in which the published `WebsocketAdapter` diverges, shown
 * against the published server 2.0.2 and against ours (it diverges on both:
 * the cause is the client), and the same situation with our client against
 * our server, which converges. The steps are fixed (which frame has arrived
 * before the app's next pull), so the outcome does not depend on timing; the
 * un-steered suite (convergence.test.ts) meets the same situations by chance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FrameTap } from '../harness/chaos-actors.js';
import {
  type ClientEnvironment,
  installClientEnvironment,
  waitFor,
  wireOf,
} from '../harness/client-harness.js';
import { OurPeer, type Peer, PublishedPeer } from '../harness/convergence/peers.js';
import { type RunOutcome, settleRoom } from '../harness/convergence/run-schedule.js';
import { cleanup } from '../harness/server-process.js';
import { type ServerKind, TargetServer } from '../harness/target-server.js';

const SETTLE = { timeoutMs: 20_000 };
const SHAPE = 'shape-0/Shape';
const OTHER = 'shape-1/Shape';

let env: ClientEnvironment;
const servers = new Map<ServerKind, TargetServer>();
let rooms = 0;

beforeAll(async () => {
  env = installClientEnvironment();
  servers.set('published', await TargetServer.start('published'));
  servers.set('ours', await TargetServer.start('ours'));
}, 60_000);

afterAll(async () => {
  env.restore();
  for (const server of servers.values()) await server.kill();
  await cleanup();
});

/** A fresh room on `server` with `count` published peers, connected one after the other. */
async function publishedRoom(server: ServerKind, count: number) {
  const target = servers.get(server) as TargetServer;
  const room = `case-${server}-${++rooms}`;
  const peers: PublishedPeer[] = [];
  for (let i = 0; i < count; i++) {
    const peer = new PublishedPeer(`${room}-p${i}`, room, target.url, env);
    await peer.start();
    await waitFor(
      () => peer.ready(),
      () => `${peer.clientId} synced`,
    );
    peers.push(peer);
  }
  return { target, room, peers };
}

/** A fresh room on our server with `count` of our clients, their sockets watched by `tap`. */
async function ourRoom(count: number, tap: FrameTap) {
  const target = servers.get('ours') as TargetServer;
  const room = `case-our-client-${++rooms}`;
  const peers = Array.from(
    { length: count },
    (_, i) => new OurPeer(`${room}-p${i}`, room, target.url, tap.wrap(WebSocket)),
  );
  for (const peer of peers) await peer.start();
  await waitFor(
    () => peers.every((peer) => peer.ready()),
    () => `${room} synced`,
  );
  return { target, room, peers };
}

async function settled(peers: Peer[], target: TargetServer, room: string): Promise<RunOutcome> {
  try {
    return await settleRoom(peers, target, room, SETTLE);
  } finally {
    for (const peer of peers) peer.close();
  }
}

/** True once `clientId`'s current socket received a document patch written by `author`. */
function received(clientId: string, author: string): boolean {
  return (wireOf(clientId)?.frames ?? []).some(
    (frame) => frame.type === 'patch' && frame.clientId === author,
  );
}

/** Makes the socket lose everything it sends from now on (a connection dying with frames in flight). */
function loseSends(socket: WebSocket | undefined): void {
  if (!socket) throw new Error('no socket');
  (socket as unknown as { send: () => void }).send = () => {};
}

describe('compatibility cases (docs/compatibility-cases.md)', { timeout: 60_000 }, () => {
  for (const server of ['published', 'ours'] as const) {
    it(`[D7] [O2] case 1: the published client loses another client's write masked by its reconnect buffer, on the ${server} server`, async () => {
      const { target, room, peers } = await publishedRoom(server, 2);
      const [a, b] = peers as [PublishedPeer, PublishedPeer];
      a.touch(SHAPE, { x: 0, color: 'a' }, 0);
      expect((await settleRoom(peers, target, room, SETTLE)).converged).toBe(true);
      // a edits while offline, comes back; its reconnect reply arrives and b writes the same field.
      const before = wireOf(a.clientId)?.socket;
      a.goOffline();
      a.touch(SHAPE, { x: 1 }, 1);
      a.goOnline();
      await waitFor(
        () => wireOf(a.clientId)?.socket !== before && wireOf(a.clientId)?.synced === true,
        () => 'a synced again',
      );
      // b's app pulls, then edits (an ECS frame).
      b.tick();
      b.touch(SHAPE, { x: 2 }, 2);
      await waitFor(
        () => received(a.clientId, b.clientId),
        () => "b's write reached a",
      );
      // The app's next pull takes the reply and b's write together.
      a.tick();
      const outcome = await settled(peers, target, room);
      expect(outcome.converged).toBe(false);
      expect(a.document()[SHAPE]?.x).toBe(1);
      expect(b.document()[SHAPE]?.x).toBe(2);
    });

    it(`[O4] case 2: the published client drops writes requeued from flight when it pulls after the socket closed, on the ${server} server`, async () => {
      const { target, room, peers } = await publishedRoom(server, 2);
      const [a, b] = peers as [PublishedPeer, PublishedPeer];
      a.touch(SHAPE, { x: 0, color: 'a' }, 0);
      expect((await settleRoom(peers, target, room, SETTLE)).converged).toBe(true);
      b.touch(OTHER, { x: 9 }, 3);
      await waitFor(
        () => received(a.clientId, b.clientId),
        () => "b's write reached a",
      );
      // a's next write never reaches the server, and its socket dies; then the app pulls.
      const socket = wireOf(a.clientId)?.socket;
      loseSends(socket);
      a.touch(SHAPE, { x: 5 }, 5);
      socket?.terminate();
      // Closed, not just closing: the adapter's close handler has requeued the write.
      await waitFor(
        () => socket?.readyState === WebSocket.CLOSED,
        () => "a's socket closed",
      );
      a.tick();
      const outcome = await settled(peers, target, room);
      expect(outcome.converged).toBe(false);
      expect(a.document()[SHAPE]?.x).toBe(5);
      expect(b.document()[SHAPE]?.x).toBe(0);
    });
  }

  it('[D7] [O2] case 1 with our client: the write made after the reconnect reply reaches the returning client', async () => {
    const tap = new FrameTap();
    const { target, room, peers } = await ourRoom(2, tap);
    const [a, b] = peers as [OurPeer, OurPeer];
    a.touch(SHAPE, { x: 0, color: 'a' }, 0);
    expect((await settleRoom(peers, target, room, SETTLE)).converged).toBe(true);
    a.goOffline();
    a.touch(SHAPE, { x: 1 }, 1);
    a.goOnline();
    await waitFor(
      () => a.ready(),
      () => 'a synced again',
    );
    b.touch(SHAPE, { x: 2 }, 2);
    const outcome = await settled(peers, target, room);
    expect(outcome).toEqual({ converged: true, detail: '' });
    expect(a.document()[SHAPE]?.x).toBe(2);
  });

  it('[O4] case 2 with our client: a write lost with its socket is sent again', async () => {
    const tap = new FrameTap();
    const { target, room, peers } = await ourRoom(2, tap);
    const [a, b] = peers as [OurPeer, OurPeer];
    a.touch(SHAPE, { x: 0, color: 'a' }, 0);
    expect((await settleRoom(peers, target, room, SETTLE)).converged).toBe(true);
    b.touch(OTHER, { x: 9 }, 3);
    await waitFor(
      () => a.document()[OTHER] !== undefined,
      () => "b's write reached a",
    );
    const socket = tap.socketOf(a.clientId);
    loseSends(socket);
    a.touch(SHAPE, { x: 5 }, 5);
    socket?.terminate();
    const outcome = await settled(peers, target, room);
    expect(outcome).toEqual({ converged: true, detail: '' });
    expect(b.document()[SHAPE]?.x).toBe(5);
  });
});
