/**
 * Graceful shutdown of the server command: on SIGTERM or SIGINT connected
 * clients get "going away" (1001), every room is persisted (SPEC P5) and the
 * process exits 0; a restart on the same data serves every acked write and
 * deletion (SPEC D9).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  documentOf,
  readRoom,
  ServerProcess,
  tempDir,
  type WireClient,
} from '../../harness/server-process.js';

afterEach(cleanup);

const CASES = [
  { storage: 'sqlite', signal: 'SIGTERM' },
  { storage: 'sqlite', signal: 'SIGINT' },
  { storage: 'file', signal: 'SIGTERM' },
  { storage: 'file', signal: 'SIGINT' },
] as const;

async function synced(server: ServerProcess, roomId: string, clientId: string): Promise<WireClient> {
  const client = await server.connect(roomId, clientId);
  await client.sync(0);
  return client;
}

describe('[P5] graceful shutdown persists every room', () => {
  it.each(CASES)(
    '[P5] --storage $storage, $signal: clients get 1001, exit 0, a restart serves the writes',
    async ({ storage, signal }) => {
      const dataDir = tempDir();
      const args = ['--storage', storage, '--data-dir', dataDir];
      const server = await ServerProcess.start({ args });
      const writer = await synced(server, 'kept', 'writer');
      const bystander = await synced(server, 'other-room', 'bystander');
      await writer.write([
        { 'e1/Shape': { _exists: true, x: 1, color: 'red' }, 'e2/Shape': { _exists: true, x: 2 } },
      ]);
      await writer.write([{ 'e1/Shape': { x: 10 } }]);
      const last = await writer.write([{ 'e2/Shape': { _exists: false } }]);
      expect(last.timestamp).toBe(3);
      await bystander.write([{ 'b/Note': { _exists: true, text: 'hello' } }]);

      const exit = await server.stop(signal);
      expect(exit).toEqual({ code: 0, signal: null });
      // The close code proves each client got a close frame from the server before it exited.
      expect((await writer.closed()).code).toBe(1001);
      expect((await bystander.closed()).code).toBe(1001);
      const logs = server.logs();
      expect(logs).toContainEqual(expect.objectContaining({ msg: 'signal received', signal }));
      // Every log line reaches stdout before the process exits.
      expect(logs).toContainEqual(expect.objectContaining({ msg: 'shutting down' }));
      expect(logs).toContainEqual(expect.objectContaining({ msg: 'shutdown complete' }));

      const again = await ServerProcess.start({ args });
      expect(await readRoom(again, 'other-room')).toEqual({ 'b/Note': { _exists: true, text: 'hello' } });
      const reader = await again.connect('kept', 'reader');
      const { reply, synced: done } = await reader.sync(0);
      expect(done.timestamp).toBe(3);
      // A fresh reader sees the live component; the deleted one is a tombstone.
      expect(documentOf(reply)).toEqual({
        'e1/Shape': { _exists: true, x: 10, color: 'red' },
        'e2/Shape': { _exists: false },
      });
      // A client that was away since clock 1 learns of the deletion (D9).
      const returning = await again.connect('kept', 'returning');
      const since1 = await returning.sync(1);
      expect(documentOf(since1.reply)).toEqual({
        'e1/Shape': { x: 10 },
        'e2/Shape': { _exists: false },
      });
    },
  );

  it('[server] --storage memory also shuts down cleanly on SIGTERM', async () => {
    const server = await ServerProcess.start({ args: ['--storage', 'memory'] });
    const client = await synced(server, 'volatile', 'c1');
    await client.write([{ 'a/B': { _exists: true, v: 1 } }]);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await client.closed()).code).toBe(1001);
  });

  it('[server] a second signal during shutdown does not change the outcome', async () => {
    const dataDir = tempDir();
    const args = ['--data-dir', dataDir];
    const server = await ServerProcess.start({ args });
    const client = await synced(server, 'twice', 'c1');
    await client.write([{ 'a/B': { _exists: true, v: 1 } }]);
    server.child.kill('SIGTERM');
    server.child.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect((await client.closed()).code).toBe(1001);
    const again = await ServerProcess.start({ args });
    expect(await readRoom(again, 'twice')).toEqual({ 'a/B': { _exists: true, v: 1 } });
  });
});
