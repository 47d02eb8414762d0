import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from 'canvas-store-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { CanvasStoreClient } from '../src/index.js';
import { closeClients, documentOf, eventually, makeClient, seededRandom } from './helpers/clients.js';
import { TestServer } from './helpers/test-server.js';

const ROOM = 'fuzz';
const KEYS = Array.from({ length: 8 }, (_, i) => `e${i}/Shape`);
const FIELDS = ['x', 'y', 'color', 'label'];

let server: TestServer | undefined;
let sqlite: SqliteStorage | undefined;
let dir: string | undefined;

afterEach(async () => {
  closeClients();
  await server?.stop();
  await sqlite?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  sqlite = undefined;
  dir = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startOn(path: string, port?: number): Promise<TestServer> {
  const storage = new SqliteStorage({ path });
  sqlite = storage;
  return TestServer.start({ port, createStorage: (roomId) => storage.forRoom(roomId) });
}

/** One random edit by `client`. */
function randomEdit(
  client: CanvasStoreClient,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
): string {
  const key = pick(KEYS);
  const roll = random();
  if (roll < 0.45) {
    const fields: Record<string, unknown> = {};
    for (const field of FIELDS) if (random() < 0.5) fields[field] = Math.floor(random() * 100);
    if (random() < 0.2) fields.meta = { tags: [pick(['a', 'b', 'c'])], n: Math.floor(random() * 5) };
    client.set(key, fields);
    return 'set';
  }
  if (roll < 0.6) {
    client.delete(key);
    return 'delete';
  }
  const current = client.get(key)?.points;
  const points = Array.isArray(current) ? [...(current as number[])] : [];
  const shape = random();
  if (shape < 0.6)
    for (let i = 0; i < 1 + Math.floor(random() * 4); i++) points.push(Math.floor(random() * 1000));
  else if (shape < 0.8 && points.length > 0)
    points[Math.floor(random() * points.length)] = Math.floor(random() * 1000);
  else points.length = Math.floor(points.length / 2);
  client.setArray(key, 'points', points);
  return 'setArray';
}

describe('convergence under random edits', () => {
  it('[O2] [D7] 4 clients, random set/delete/setArray, offline periods and server restarts converge', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20240611);
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    dir = mkdtempSync(join(tmpdir(), 'canvas-client-fuzz-'));
    const path = join(dir, 'rooms.db');
    server = await startOn(path);
    const port = server.port;
    const clients = Array.from({ length: 4 }, () => makeClient(server?.url ?? '', ROOM));
    await Promise.all(clients.map((client) => client.whenSynced()));
    const counts: Record<string, number> = { set: 0, delete: 0, setArray: 0, offline: 0, offlineEdits: 0 };
    const steps = 1200;
    for (let step = 0; step < steps; step++) {
      const client = pick(clients);
      const roll = random();
      if (roll < 0.03) {
        if (client.status === 'offline') client.connect();
        else {
          client.disconnect();
          counts.offline = (counts.offline ?? 0) + 1;
        }
      } else if (roll < 0.08) {
        client.transact(() => {
          for (let i = 0; i < 3; i++) randomEdit(client, random, pick);
        });
      } else {
        const op = randomEdit(client, random, pick);
        counts[op] = (counts[op] ?? 0) + 1;
        if (client.status === 'offline') counts.offlineEdits = (counts.offlineEdits ?? 0) + 1;
      }
      if (random() < 0.25) await sleep(Math.floor(random() * 3));
      if (step === Math.floor(steps / 3) || step === Math.floor((2 * steps) / 3)) {
        await server.stop();
        await sqlite?.close();
        server = await startOn(path, port);
      }
    }
    for (const client of clients) client.connect();
    await Promise.all(clients.map((client) => client.whenSynced()));
    const room = await server.room(ROOM);
    await eventually(() => {
      const state = room.getSnapshot().state;
      for (const client of clients) {
        expect(client.pendingCount).toBe(0);
        expect(documentOf(client)).toEqual(state);
      }
    });
    const fresh = makeClient(server.url, ROOM);
    await fresh.whenSynced();
    expect(documentOf(fresh)).toEqual(room.getSnapshot().state);
    if (process.env.FUZZ_DEBUG) {
      const reconnects = server.framesOfType('reconnect');
      console.log(
        seed,
        counts,
        'reconnects',
        reconnects.length,
        'refresh',
        reconnects.filter((f) => f.lastTimestamp === 0).length,
        'deltas',
        server.received.filter((t) => t.includes('__buf')).length,
        'keys',
        Object.keys(room.getSnapshot().state).length,
      );
    }
    // The run exercised what it claims to.
    expect(counts.delete).toBeGreaterThan(50);
    expect(counts.setArray).toBeGreaterThan(100);
    expect(counts.offlineEdits).toBeGreaterThan(20);
    expect(server.framesOfType('reconnect').some((f) => Array.isArray(f.documentPatches))).toBe(true);
  });
});
