/**
 * Why the published client can fail to converge after a server loses a socket
 * (found by the cluster's owner-SIGKILL test, issue 14; see docs/compatibility.md).
 *
 * The published adapter moves a write that was sent but not acked back into
 * its offline buffer when the socket closes, and sends that buffer inside its
 * next `reconnect` frame. But its `pull()` empties the offline buffer whenever
 * a server document patch is waiting, and a patch received just before the
 * close is still waiting at the app's next frame. The unacked write then never
 * leaves the client: the app shows it, the room never gets it.
 *
 * Nothing here depends on our server: a scripted WebSocket server plays any
 * server (ours, the published one, a cluster node) and sends the frames every
 * server sends in that situation: another client's broadcast, then a close
 * (a crash, a restart, a node handing a room over). Our client, in the same
 * sequence, sends the write again.
 */
import { CanvasStoreClient } from 'canvas-store-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type ClientEnvironment, installClientEnvironment, TestClient } from '../harness/client-harness.js';
import { waitUntil } from '../harness/server-process.js';

type Frame = Record<string, unknown>;

/** A server that answers `reconnect` with `synced` and records every frame per connection. */
async function scriptedServer(): Promise<{
  url: string;
  sockets: WebSocket[];
  frames: Frame[][];
  close: () => Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const sockets: WebSocket[] = [];
  const frames: Frame[][] = [];
  wss.on('connection', (ws) => {
    const index = sockets.push(ws) - 1;
    frames[index] = [];
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      frames[index]?.push(frame);
      if (frame.type === 'reconnect') ws.send(JSON.stringify({ type: 'synced', timestamp: 0 }));
    });
  });
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/`,
    sockets,
    frames,
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** The keys of every document patch `frames` carry (in `reconnect` or `patch` frames). */
function keysSent(frames: readonly Frame[]): string[] {
  return frames.flatMap((frame) =>
    ((frame.documentPatches as Frame[] | undefined) ?? []).flatMap((patch) => Object.keys(patch)),
  );
}

const BROADCAST = JSON.stringify({
  type: 'patch',
  clientId: 'other',
  documentPatches: [{ 'other-shape': { _exists: true, x: 1 } }],
  timestamp: 1,
});

describe('an unacked write when the socket closes right after a broadcast (published client vs ours)', () => {
  let env: ClientEnvironment | undefined;
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    env?.restore();
    env = undefined;
  });

  it('published client: the write is dropped from its offline buffer and never resent (pinned behaviour)', async () => {
    const server = await scriptedServer();
    closers.push(server.close);
    env = installClientEnvironment();
    const client = new TestClient('pub', 'room', server.url, env);
    closers.push(() => client.close());
    await client.connect();
    await waitUntil('the first reconnect', () => server.frames[0]?.some((f) => f.type === 'reconnect'));
    client.pull();
    client.edit({ 'my-shape': { _exists: true, x: 2 } });
    await waitUntil('the write sent', () => keysSent(server.frames[0] ?? []).includes('my-shape'));
    // Another client's write is broadcast, then the socket is lost before the ack.
    server.sockets[0]?.send(BROADCAST);
    server.sockets[0]?.close(1012, 'room moving');
    await waitUntil('the client offline', () => !client.adapter.isOnline);
    client.pull(); // the app's next frame
    await waitUntil('the next connection', () => server.frames[1]?.some((f) => f.type === 'reconnect'));
    client.pull();
    client.edit({ 'later-shape': { _exists: true, x: 3 } });
    await waitUntil('a later write sent', () => keysSent(server.frames[1] ?? []).includes('later-shape'));
    expect(client.doc['my-shape']).toBeDefined();
    expect(keysSent(server.frames[1] ?? [])).not.toContain('my-shape');
  });

  it('our client: the unacked write is sent again on the next connection', async () => {
    const server = await scriptedServer();
    closers.push(server.close);
    const client = new CanvasStoreClient({
      url: server.url,
      roomId: 'room',
      clientId: 'ours',
      token: 't',
      WebSocket,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      sendIntervalMs: 0,
    });
    closers.push(() => client.close());
    client.connect();
    await waitUntil('the first reconnect', () => server.frames[0]?.some((f) => f.type === 'reconnect'));
    await waitUntil('synced', () => client.synced);
    client.set('my-shape', { x: 2 });
    await waitUntil('the write sent', () => keysSent(server.frames[0] ?? []).includes('my-shape'));
    server.sockets[0]?.send(BROADCAST);
    server.sockets[0]?.close(1012, 'room moving');
    await waitUntil('the write sent again', () => keysSent(server.frames[1] ?? []).includes('my-shape'));
  });
});
