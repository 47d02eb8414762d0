/**
 * The published server (`@woven-ecs/canvas-store-server@2.0.2`) as a process
 * of its own, for the server benchmark: a `ws` server wired the way the
 * published README and our examples/basic-server.mjs wire a server
 * (acceptConnection + RoomManager, every client authorized readwrite), each
 * room persisted by the published FileStorage (its only durable storage; it
 * acks at once and saves the whole room at most every `saveThrottleMs`, default 10 s).
 *
 * Usage: node --import tsx published-server.ts --port 0 --host 127.0.0.1 --data-dir <dir>
 *   [--save-throttle-ms <ms>] [--single-room-load]
 * `--save-throttle-ms` passes the published Room's `saveThrottleMs` (the
 * convergence suite saves at once so a SIGKILL loses as little as it can).
 * `--single-room-load` works around a race of the published RoomManager:
 * `getOrCreateRoom` registers a room only after its storage load, so
 * sockets that open a room at the same moment (the first clients, or every
 * client reconnecting after a restart) each get a Room of their own and never
 * see each other's writes. With the flag, concurrent opens of one room share
 * one load (the convergence suite compares clients, not this race).
 * Prints one line `{"listening":<port>}` once it listens.
 * Exits 0 after SIGTERM/SIGINT once every room is saved.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { acceptConnection, FileStorage, RoomManager } from '@woven-ecs/canvas-store-server';
import { WebSocketServer } from 'ws';
import { serveEveryone } from '../../test/harness/serve-connections.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
    'save-throttle-ms': { type: 'string' },
    'single-room-load': { type: 'boolean', default: false },
  },
});
const dataDir = values['data-dir'];
if (!dataDir) throw new Error('--data-dir is required');
const saveThrottle = values['save-throttle-ms'];
const saveThrottleMs = saveThrottle === undefined ? undefined : Number(saveThrottle);

const manager = new RoomManager({ idleTimeout: 30_000 });
if (values['single-room-load']) {
  const opening = new Map<string, ReturnType<RoomManager['getOrCreateRoom']>>();
  const open = manager.getOrCreateRoom.bind(manager);
  manager.getOrCreateRoom = (roomId, options) => {
    let room = opening.get(roomId);
    if (!room) {
      room = open(roomId, options).finally(() => opening.delete(roomId));
      opening.set(roomId, room);
    }
    return room;
  };
}
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end('published canvas-store-server 2.0.2\n');
});
const wss = new WebSocketServer({ server, maxPayload: 2 * 1024 * 1024 });

serveEveryone(
  wss,
  acceptConnection,
  {
    manager,
    roomOptions: (roomId: string) => ({
      createStorage: () => new FileStorage({ dir: dataDir, roomId }),
      ...(saveThrottleMs === undefined ? {} : { saveThrottleMs }),
    }),
  },
  (error) => console.warn(`connection refused: ${error instanceof Error ? error.message : String(error)}`),
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const client of wss.clients) client.terminate();
  wss.close();
  await manager.closeAll();
  server.close(() => process.exit(0));
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(JSON.stringify({ listening: address.port }));
});
