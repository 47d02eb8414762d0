/**
 * The server process the crash tests SIGKILL. Run as
 * `node --import tsx crash-server.ts <backend> <location> [tablePrefix]`:
 *
 * - `file <dir>`: FileStorage with its defaults (journal folded on close only);
 * - `file-compact <dir>`: FileStorage folding its journal into the snapshot
 *   whenever it passes 2 KiB, saving as often as possible, so kills land
 *   mid-fold too;
 * - `sqlite <path>`: one SqliteStorage database for every room;
 * - `postgres <url> <tablePrefix>`: one PostgresStorage for every room.
 *
 * It serves a `ws` WebSocketServer on 127.0.0.1, an ephemeral port, wired like
 * examples/basic-server.mjs, accepts every token with write access, and prints
 * `PORT <n>` on stdout once listening. Rate limits are lifted: the test writers
 * send as fast as acks come back. The process exits when its stdin closes, so
 * it never outlives a test process that died.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import {
  acceptConnection,
  FileStorage,
  PostgresStorage,
  RoomManager,
  type RoomOptions,
  SqliteStorage,
  type Storage,
} from '../../../src/index.js';
import { serveEveryone } from '../serve-connections.js';

const [backend, location, tablePrefix] = process.argv.slice(2);
if (!backend || !location) {
  console.error('usage: crash-server.ts <file|file-compact|sqlite|postgres> <location> [tablePrefix]');
  process.exit(2);
}

function storageFactory(kind: string, where: string): (roomId: string) => Storage {
  switch (kind) {
    case 'file':
      return (roomId) => new FileStorage({ dir: where, roomId });
    case 'file-compact':
      return (roomId) => new FileStorage({ dir: where, roomId, compactAfterBytes: 2048 });
    case 'sqlite': {
      const sqlite = new SqliteStorage({ path: where });
      return (roomId) => sqlite.forRoom(roomId);
    }
    case 'postgres': {
      if (!tablePrefix) throw new Error('postgres needs a tablePrefix');
      const postgres = new PostgresStorage({ connectionString: where, tablePrefix });
      return (roomId) => postgres.forRoom(roomId);
    }
    default:
      throw new Error(`unknown backend ${kind}`);
  }
}

const roomOptions = (): Omit<RoomOptions, 'onTokenRefresh'> => ({
  saveThrottleMs: backend === 'file-compact' ? 0 : 1_000,
  limits: { framesPerSecond: 1e9, frameBurst: 1e9, bytesPerSecond: 1e12, byteBurst: 1e12 },
});

const manager = new RoomManager({ createStorage: storageFactory(backend, location), idleTimeout: 600_000 });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 });

serveEveryone(wss, acceptConnection, { manager, roomOptions }, (error) =>
  console.error(`connection refused: ${String(error)}`),
);

wss.on('listening', () => {
  const { port } = wss.address() as AddressInfo;
  process.stdout.write(`PORT ${port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
