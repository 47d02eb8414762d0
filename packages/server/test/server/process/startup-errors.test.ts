/**
 * What a newcomer meets when the server cannot start (issue 12 items 2, 3, 5):
 * the process exits non-zero with one human sentence on stderr naming the
 * path, flag or variable and what to do, never a stack trace; storage is
 * probed at startup (write, fsync, read back) and `/readyz` keeps probing it.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, runCli, ServerProcess, tempDir, waitUntil } from '../../harness/server-process.js';

let blocker: Server | undefined;
afterEach(async () => {
  await new Promise<void>((done) => (blocker ? blocker.close(() => done()) : done()));
  blocker = undefined;
  await cleanup();
});

/** One line on stderr, no stack frames. */
function expectOneSentence(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/SqliteError|\{"level"/);
  return lines[0] as string;
}

/** A data dir that cannot be created: its parent is a regular file (root may write anywhere else). */
function unusableDataDir(): string {
  const parent = join(tempDir(), 'not-a-directory');
  writeFileSync(parent, 'a file where a directory should be');
  return join(parent, 'data');
}

describe('[P2] a data directory that cannot store data stops the server at startup', () => {
  it.each(['sqlite', 'file'])(
    '[P2] --storage %s: exit 1 with a sentence naming the path and --data-dir',
    async (storage) => {
      const dataDir = unusableDataDir();
      const result = await runCli([
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--storage',
        storage,
        '--data-dir',
        dataDir,
      ]);
      expect(result.code).toBe(1);
      const sentence = expectOneSentence(result.stderr);
      expect(sentence).toContain(resolve(dataDir));
      expect(sentence).toMatch(/--data-dir/);
      expect(sentence).toMatch(/CANVAS_DATA_DIR/);
      expect(sentence).toMatch(/ENOTDIR/);
      expect(result.stdout).not.toMatch(/listening/);
    },
  );

  it('[P2] CANVAS_DATA_DIR is probed the same way', async () => {
    const dataDir = unusableDataDir();
    const result = await runCli(['--port', '0', '--host', '127.0.0.1'], { CANVAS_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(expectOneSentence(result.stderr)).toContain(resolve(dataDir));
  });

  it.each(['sqlite', 'file'])(
    '[P2] --storage %s: /readyz answers 503 once the directory stops taking writes, 200 again after',
    async (storage) => {
      const dataDir = tempDir();
      const server = await ServerProcess.start({ args: ['--storage', storage, '--data-dir', dataDir] });
      expect((await server.get('/readyz')).status).toBe(200);
      const probed = storage === 'file' ? join(dataDir, 'rooms') : dataDir;
      const moved = `${probed}-moved`;
      // Replace the directory with a file: every write into it now fails (even for root).
      rmSync(moved, { recursive: true, force: true });
      mkdirSync(moved);
      renameSync(probed, moved);
      writeFileSync(probed, 'not a directory');
      const unready = await waitUntil('a 503', async () => {
        const answer = await server.get('/readyz');
        return answer.status === 503 ? answer : undefined;
      });
      expect(JSON.parse(unready.text)).toMatchObject({ status: 'unavailable', storage });
      rmSync(probed);
      renameSync(moved, probed);
      await waitUntil('a 200 again', async () => (await server.get('/readyz')).status === 200);
    },
  );
});

describe('[server] the port is taken', () => {
  it('[server] exit 1 with a sentence naming the port, --port and PORT; the log line stays JSON', async () => {
    blocker = createServer();
    const taken = await new Promise<number>((done) => {
      blocker?.listen(0, '127.0.0.1', () => {
        const address = blocker?.address();
        done(typeof address === 'object' && address ? address.port : 0);
      });
    });
    const result = await runCli(['--port', String(taken), '--host', '127.0.0.1', '--storage', 'memory']);
    expect(result.code).toBe(1);
    const sentence = expectOneSentence(result.stderr);
    expect(sentence).toContain(`port ${taken}`);
    expect(sentence).toMatch(/already in use/);
    expect(sentence).toMatch(/--port/);
    expect(sentence).toMatch(/PORT/);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ level: 60, msg: 'server failed to start' }));
  });
});

describe('[server] npm start with the server options before `--`', () => {
  it('[server] `npm start --port 9000` says to run `npm start -- --port 9000`, exit 2', async () => {
    // What npm hands the script for `npm start --port 9000`: it keeps --port (as
    // npm_config_port=true) and passes the value 9000 on as a stray argument.
    const result = await runCli(['9000'], { npm_lifecycle_event: 'start', npm_config_port: 'true' });
    expect(result.code).toBe(2);
    const sentence = expectOneSentence(result.stderr);
    expect(sentence).toContain('`npm start -- --port 9000`');
    expect(sentence).not.toMatch(/too many arguments/);
  });

  it('[server] a flag npm swallowed without a value is reported too', async () => {
    const result = await runCli([], { npm_lifecycle_event: 'start', npm_config_no_serve_client: 'true' });
    // npm names `--no-serve-client` as its own `no_serve_client` config.
    expect(result.code).toBe(2);
    expect(expectOneSentence(result.stderr)).toContain('`npm start -- --no-serve-client`');
  });
});
