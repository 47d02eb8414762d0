/**
 * `npm run cluster` (issue 14): the demo script starts three cluster nodes and
 * a round-robin proxy and prints their URLs; two whiteboard clients on
 * different nodes see each other's shapes, also through the proxy, and the
 * whiteboard page is served. Ctrl-C (SIGINT) stops every node.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunDatabase, type RunDatabase } from '../harness/cluster-postgres.js';
import { PrivateRedis } from '../harness/cluster-redis.js';
import { cleanEnv, cleanup, WireClient, waitUntil } from '../harness/server-process.js';

const DEMO = fileURLToPath(new URL('../../scripts/cluster/cluster-demo.ts', import.meta.url));

describe('npm run cluster (K1 demo)', () => {
  let redis: PrivateRedis;
  let db: RunDatabase;
  let demo: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    db = await createRunDatabase('demo');
    demo = spawn(process.execPath, ['--import', 'tsx', DEMO, '--port', '0', '--lease-ms', '1500'], {
      env: cleanEnv({ CANVAS_REDIS_URL: redis.url, DATABASE_URL: db.url }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
    demo.stdout?.on('data', (chunk: Buffer) => {
      output += String(chunk);
    });
    demo.stderr?.on('data', (chunk: Buffer) => {
      output += String(chunk);
    });
    await waitUntil('the demo URLs', () => output.includes('proxy (round-robin)'), 60_000);
  });
  afterAll(async () => {
    if (demo.exitCode === null) demo.kill('SIGKILL');
    await cleanup();
    await redis?.kill();
    await db?.drop();
  });

  function urls(): { nodes: string[]; proxy: string } {
    const nodes = [...output.matchAll(/^node \S+: (http:\/\/127\.0\.0\.1:\d+\/)$/gm)].map(
      (m) => m[1] as string,
    );
    const proxy = /^proxy \(round-robin\): (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(output)?.[1] as string;
    return { nodes, proxy };
  }

  function connect(httpUrl: string, clientId: string): Promise<WireClient> {
    const query = new URLSearchParams({ roomId: 'demo-board', clientId, token: 't' });
    return WireClient.connect(`${httpUrl.replace('http', 'ws')}?${query}`);
  }

  it('K1: prints three node URLs and a proxy URL, each serving the whiteboard page', async () => {
    const { nodes, proxy } = urls();
    expect(nodes).toHaveLength(3);
    expect(new Set(nodes).size).toBe(3);
    for (const url of [...nodes, proxy]) expect((await fetch(url)).status).toBe(200);
  });

  it('K1 K3: clients on different nodes and behind the proxy see each other’s shapes', async () => {
    const { nodes, proxy } = urls();
    const clients = [
      await connect(nodes[0] as string, 'alice'),
      await connect(nodes[1] as string, 'bob'),
      await connect(proxy, 'carol'),
    ];
    for (const client of clients) await client.sync(0);
    for (const [i, client] of clients.entries()) {
      await client.write([{ [`shape-${i}/Rect`]: { _exists: true, x: i, y: 2 * i } }]);
    }
    for (const [i, client] of clients.entries()) {
      for (const j of [0, 1, 2].filter((j) => j !== i)) {
        await client.waitForFrame(`shape-${j} on client ${i}`, (f) =>
          JSON.stringify(f.documentPatches ?? []).includes(`"shape-${j}/Rect"`),
        );
      }
    }
  });

  it('Ctrl-C stops every node and the script exits 0', async () => {
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    const { nodes } = urls();
    for (const url of nodes) await expect(fetch(url)).rejects.toThrow();
  });
});
