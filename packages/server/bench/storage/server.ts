/**
 * Child process of the storage benchmark: a `ws` server on a loopback port,
 * wired like examples/basic-server.mjs (through the tests' one wiring,
 * `serveEveryone`), over one backend. Ours when the
 * backend is one of ours, the published 2.0.2 server for `published-file`.
 *
 * IPC: sends `ready { port }`; answers `stats` with CPU time and storage
 * counters; on `stop` closes every room (persisting it) and exits.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as published from '@woven-ecs/canvas-store-server';
import { acceptConnection, RoomManager, type Storage } from 'canvas-store-server';
import { WebSocketServer } from 'ws';
import { serveEveryone } from '../../test/harness/serve-connections.js';
import { emptyCounters, instrument, openStorages } from './backends.js';
import { childConfig, onParentMessage, toParent } from './child.js';

/** Whole-snapshot saves of load/save storages, as in the example server. */
const SAVE_THROTTLE_MS = 1_000;
/** Closed-loop clients send far more than the default 100 frames/s per session. */
const UNLIMITED_RATE = { framesPerSecond: 1e9, frameBurst: 1e9, bytesPerSecond: 1e12, byteBurst: 1e12 };

const config = childConfig();
const storages = openStorages(config);
const counters = emptyCounters();
const isPublished = config.backend === 'published-file';

const ours = isPublished
  ? null
  : new RoomManager({
      createStorage: (roomId) => instrument(storages.forRoom(roomId) as Storage, counters),
      idleTimeout: 60_000,
    });
const theirs = isPublished ? new published.RoomManager({ idleTimeout: 60_000 }) : null;

const server = createServer((_req, res) => {
  res.writeHead(200).end('storage bench server\n');
});
const wss = new WebSocketServer({ server, maxPayload: 2 * 1024 * 1024 });

/** A refused connection is logged; the benchmark's clients are always accepted. */
const onRefused = (error: unknown) => {
  console.error(`[server] connection refused: ${error instanceof Error ? error.message : String(error)}`);
};
if (ours) {
  serveEveryone(
    wss,
    acceptConnection,
    {
      manager: ours,
      roomOptions: () => ({ saveThrottleMs: SAVE_THROTTLE_MS, limits: UNLIMITED_RATE }),
    },
    onRefused,
  );
} else {
  serveEveryone(
    wss,
    published.acceptConnection,
    {
      manager: theirs as published.RoomManager,
      roomOptions: (roomId: string) => ({
        createStorage: () => instrument(storages.forRoom(roomId) as published.Storage, counters),
        saveThrottleMs: SAVE_THROTTLE_MS,
      }),
    },
    onRefused,
  );
}

async function stop(): Promise<void> {
  const started = performance.now();
  for (const client of wss.clients) client.terminate();
  wss.close();
  try {
    if (ours) await ours.closeAll();
    if (theirs) await theirs.closeAll();
    await storages.close();
  } catch (error) {
    console.error('[server] close failed', error);
  }
  toParent({ type: 'stopped', closeMs: performance.now() - started });
  server.close();
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

onParentMessage((message) => {
  if (message.type === 'stats') {
    const room = ours?.getExistingRoom('bench');
    toParent({
      type: 'stats',
      cpu: process.cpuUsage(),
      counters: { ...counters },
      roomStats: room ? { ...room.stats } : null,
    });
  } else if (message.type === 'stop') {
    void stop();
  }
});

server.listen(0, '127.0.0.1', () => {
  toParent({ type: 'ready', port: (server.address() as AddressInfo).port });
});
