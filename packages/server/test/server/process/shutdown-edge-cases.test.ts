/**
 * Shutdown when things around the server are broken: the reader of its stdout
 * is gone (issue 12 item 4), or its storage fails so edits cannot be stored
 * (item 7). Either way SIGTERM ends the process; when edits are lost it exits 1
 * and names the rooms.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, ServerProcess, tempDir, waitUntil } from '../../harness/server-process.js';

afterEach(cleanup);

const FAILING_DISK = fileURLToPath(new URL('./failing-disk.mjs', import.meta.url));

describe('[P5] shutdown when stdout has no reader', () => {
  it('[P5] SIGTERM still exits 0 after the reader of stdout went away (EPIPE)', async () => {
    const server = await ServerProcess.start({ args: ['--data-dir', tempDir()] });
    // As `canvas-store-server | head -2` does once it has its lines: the pipe's reader exits.
    // Nothing is logged until the signal, so the shutdown's own lines are the first to meet
    // the broken pipe: pino's exit-time flush then retried them forever.
    server.child.stdout?.destroy();
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('[P5] after EPIPE the writes are still stored before the exit', async () => {
    const args = ['--data-dir', tempDir()];
    const server = await ServerProcess.start({ args });
    const client = await server.connect('piped', 'c1');
    await client.sync(0);
    server.child.stdout?.destroy();
    await client.write([{ 'a/B': { v: 1 } }]);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const again = await ServerProcess.start({ args });
    const reader = await again.connect('piped', 'reader');
    expect((await reader.sync(0)).synced.timestamp).toBe(1);
  });
});

const BROKEN_DISKS = [
  { disk: 'fail', says: /could not store every room/ },
  { disk: 'hang', says: /gave up after 300 ms \(--shutdown-timeout/ },
] as const;

describe('[P5] shutdown while storage is failing', () => {
  it.each(BROKEN_DISKS)(
    '[P5] a disk that starts to $disk: SIGTERM exits 1 naming the room whose edits are not stored',
    async ({ disk, says }) => {
      const armed = join(tempDir(), 'armed');
      const server = await ServerProcess.start({
        args: ['--storage', 'file', '--data-dir', tempDir(), '--shutdown-timeout', '300'],
        nodeArgs: ['--import', FAILING_DISK],
        env: { FAILING_DISK: disk, FAILING_DISK_ARMED: armed },
      });
      const client = await server.connect('doomed-room', 'c1');
      await client.sync(0);
      await client.write([{ 'a/B': { _exists: true, v: 1 } }]);
      const healthy = await server.connect('clean-room', 'c2');
      await healthy.sync(0);
      await healthy.write([{ 'c/D': { _exists: true, v: 1 } }]);
      healthy.close();
      await healthy.closed();

      server.child.kill('SIGUSR2');
      await waitUntil('the disk is broken', () => existsSync(armed));
      // This write cannot be stored: it is never acked, and shutdown cannot save it.
      const unacked = client.sendPatch([{ 'a/B': { v: 2 } }]);
      if (disk === 'fail') {
        await waitUntil('the failed commit in the logs', () =>
          server.logs().some((line) => Number(line.level) >= 40),
        );
      }
      const exit = await server.stop('SIGTERM');
      expect(exit).toEqual({ code: 1, signal: null });
      expect(client.ofType('ack').map((ack) => ack.messageId)).not.toContain(unacked);
      const stderr = server.stderr.trim();
      expect(stderr.split('\n')).toHaveLength(1);
      expect(stderr).toMatch(says);
      expect(stderr).toContain('"doomed-room"');
      // A failing disk refuses only the room with pending edits; a hung one also stalls the
      // other room's closing, which is then honestly reported as not finished.
      if (disk === 'fail') expect(stderr).not.toContain('clean-room');
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(server.logs()).toContainEqual(
        expect.objectContaining({ level: 50, rooms: expect.arrayContaining(['doomed-room']) }),
      );
    },
  );

  it('[P5] with healthy storage the default timeout does not get in the way: exit 0', async () => {
    const server = await ServerProcess.start({ args: ['--storage', 'file', '--data-dir', tempDir()] });
    const client = await server.connect('fine', 'c1');
    await client.sync(0);
    await client.write([{ 'a/B': { v: 1 } }]);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(server.stderr).toBe('');
  });
});
