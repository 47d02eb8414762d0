/**
 * The server command starts on its defaults and on every storage backend, and
 * a raw protocol-2 client can sync, write and get its ack on each.
 */
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, ServerProcess, tempDir, type WireClient } from '../../harness/server-process.js';

afterEach(cleanup);

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** True when something accepts TCP connections on PostgreSQL's port. */
function postgresReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 5432 });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

const hasPostgres = await postgresReachable();
const skipPostgres = !hasPostgres && !process.env.CI;
if (skipPostgres) {
  console.warn(`[server] PostgreSQL tests skipped: nothing listens on 127.0.0.1:5432 (${POSTGRES_URL})`);
}

function uniqueRoom(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Connects a writer and a watcher, writes one component and checks ack, broadcast and a fresh read. */
async function writeAndAck(server: ServerProcess, roomId: string): Promise<void> {
  const writer: WireClient = await server.connect(roomId, 'writer');
  const { synced } = await writer.sync(0);
  expect(synced.timestamp).toBe(0);
  const watcher = await server.connect(roomId, 'watcher');
  await watcher.sync(0);

  const ack = await writer.write([{ 'e1/Shape': { _exists: true, x: 10, color: 'red' } }]);
  expect(ack).toEqual({ type: 'ack', messageId: ack.messageId, timestamp: 1 });

  const broadcast = await watcher.waitForFrame(
    'the broadcast',
    (f) => f.type === 'patch' && f.timestamp === 1,
  );
  expect(broadcast).toMatchObject({
    clientId: 'writer',
    documentPatches: [{ 'e1/Shape': { x: 10, color: 'red' } }],
  });

  const reader = await server.connect(roomId, 'reader');
  const { reply } = await reader.sync(0);
  expect(reply?.documentPatches).toEqual([{ 'e1/Shape': { _exists: true, x: 10, color: 'red' } }]);
}

function listeningLine(server: ServerProcess) {
  return server.logs().find((line) => line.msg === 'canvas-store-server listening');
}

describe('[server] starting the command on each storage', () => {
  it('[server] starts with no storage flags: sqlite under ./data of the working directory', async () => {
    const cwd = tempDir();
    const server = await ServerProcess.start({ cwd });
    expect(listeningLine(server)).toMatchObject({ storage: 'sqlite', auth: 'none', host: '127.0.0.1' });
    expect(server.port).toBeGreaterThan(0);
    await writeAndAck(server, 'default-room');
    expect(existsSync(join(cwd, 'data', 'rooms.db'))).toBe(true);
  });

  it('[server] --storage sqlite keeps its database under --data-dir', async () => {
    const dataDir = tempDir();
    const server = await ServerProcess.start({ args: ['--storage', 'sqlite', '--data-dir', dataDir] });
    expect(listeningLine(server)).toMatchObject({ storage: 'sqlite' });
    await writeAndAck(server, 'sqlite-room');
    expect(existsSync(join(dataDir, 'rooms.db'))).toBe(true);
  });

  it('[server] --storage file keeps room files under --data-dir/rooms', async () => {
    const dataDir = tempDir();
    const server = await ServerProcess.start({ args: ['--storage', 'file', '--data-dir', dataDir] });
    expect(listeningLine(server)).toMatchObject({ storage: 'file' });
    await writeAndAck(server, 'file-room');
    expect(readdirSync(join(dataDir, 'rooms')).length).toBeGreaterThan(0);
  });

  it('[server] --storage memory writes nothing to --data-dir', async () => {
    const dataDir = tempDir();
    const server = await ServerProcess.start({ args: ['--storage', 'memory', '--data-dir', dataDir] });
    expect(listeningLine(server)).toMatchObject({ storage: 'memory' });
    await writeAndAck(server, 'memory-room');
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe.skipIf(skipPostgres)('[server] starting the command on PostgreSQL', () => {
  it('[P5] --storage postgres --postgres-url serves and persists a room across a restart', async () => {
    const roomId = uniqueRoom('pg-room');
    const args = ['--storage', 'postgres', '--postgres-url', POSTGRES_URL];
    const server = await ServerProcess.start({ args });
    expect(listeningLine(server)).toMatchObject({ storage: 'postgres' });
    expect((await server.get('/readyz')).status).toBe(200);
    await writeAndAck(server, roomId);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const again = await ServerProcess.start({ args });
    const reader = await again.connect(roomId, 'late-reader');
    const { reply } = await reader.sync(0);
    expect(reply?.documentPatches).toEqual([{ 'e1/Shape': { _exists: true, x: 10, color: 'red' } }]);
  });
});
