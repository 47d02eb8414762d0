import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const examplePath = join(root, 'packages', 'server', 'examples', 'basic-server.mjs');

const libraryDoc = join(root, 'docs', 'library.md');

function docBlock(name: string): string {
  const doc = readFileSync(libraryDoc, 'utf8');
  const start = doc.indexOf(`<!-- example:${name} -->`);
  const end = doc.indexOf(`<!-- /example:${name} -->`);
  expect(start, `docs/library.md has no example:${name} block`).toBeGreaterThanOrEqual(0);
  const block = doc.slice(start, end);
  const code = /```js\n([\s\S]*?)```/.exec(block);
  return code?.[1] ?? '';
}

describe('the example server of docs/library.md', () => {
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;

  afterEach(() => {
    child?.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('[docs] docs/library.md shows exactly examples/basic-server.mjs', () => {
    expect(docBlock('basic-server')).toBe(readFileSync(examplePath, 'utf8'));
  });

  it('[docs] the example names how it is run truthfully (npm start runs the server command, not it)', () => {
    const header = readFileSync(examplePath, 'utf8').split('\n').slice(0, 4).join('\n');
    expect(header).toContain('node packages/server/examples/basic-server.mjs');
    expect(header).not.toMatch(/Run it with `npm start`/);
  });

  it('[docs][A1][D7] the example server serves a client: ack, then a reconnect reply holding the write', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'css-example-'));
    const server = spawn(process.execPath, [examplePath], {
      // The example reads the same variables as the server command.
      env: { ...process.env, PORT: '0', CANVAS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = server;
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      server.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /localhost:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      server.once('exit', (code) => reject(new Error(`example exited with ${code}`)));
    });
    const url = `ws://127.0.0.1:${port}/?roomId=readme&clientId=c1&token=t`;
    // CANVAS_DATA_DIR, not some other variable, decides where the data goes.
    await expect.poll(() => existsSync(join(dataDir as string, 'rooms.db')), { timeout: 20_000 }).toBe(true);
    const writer = new WebSocket(url);
    await new Promise((resolve) => writer.once('open', resolve));
    const frames: Record<string, unknown>[] = [];
    writer.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
    writer.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
    writer.send(
      JSON.stringify({
        type: 'patch',
        messageId: 'm1',
        documentPatches: [{ 'e1/Shape': { _exists: true, x: 1 } }],
      }),
    );
    await expect
      .poll(() => frames.find((f) => f.type === 'ack'), { timeout: 20_000 })
      .toEqual({ type: 'ack', messageId: 'm1', timestamp: 1 });
    writer.close();

    const reader = new WebSocket(url.replace('c1', 'c2'));
    await new Promise((resolve) => reader.once('open', resolve));
    // Record every frame: frames that arrive in one read are emitted back to back, and a
    // listener attached after the first would miss the next (the test hung under load).
    const received: Record<string, unknown>[] = [];
    reader.on('message', (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
    reader.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
    await expect.poll(() => received.some((f) => f.type === 'synced'), { timeout: 20_000 }).toBe(true);
    expect(received.find((f) => f.type !== 'clientCount')).toEqual({
      type: 'patch',
      clientId: '',
      documentPatches: [{ 'e1/Shape': { _exists: true, x: 1 } }],
      timestamp: 1,
    });
    reader.close();
  });
});
