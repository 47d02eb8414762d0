/**
 * The cluster harness itself (issue 14): the failure tests rely on a private
 * Redis that a test may kill and restart without touching anyone else's, and
 * on a fresh PostgreSQL database per file. If these broke, a K6 test could
 * restart the shared Redis or a K4 test could read another file's rooms.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createRunDatabase, type RunDatabase } from '../harness/cluster-postgres.js';
import { PrivateRedis, redisAnswers } from '../harness/cluster-redis.js';

async function redisCommand(port: number, command: string): Promise<string> {
  const { createConnection } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += String(chunk);
      if (reply.endsWith('\r\n')) {
        socket.destroy();
        resolve(reply.trim());
      }
    });
  });
}

describe('cluster harness (issue 14)', () => {
  const databases: RunDatabase[] = [];
  const redises: PrivateRedis[] = [];
  afterAll(async () => {
    for (const redis of redises) await redis.kill();
    for (const db of databases) await db.drop();
  });

  it('K6 harness: a private redis-server restarts on the same port, empty, and its kill leaves 6379 alone', async () => {
    const redis = await PrivateRedis.start();
    redises.push(redis);
    expect(redis.port).not.toBe(6379);
    expect(await redisCommand(redis.port, 'SET harness-key 1')).toBe('+OK');
    await redis.kill();
    expect(await redisAnswers(redis.port)).toBe(false);
    await redis.restart();
    expect(await redisAnswers(redis.port)).toBe(true);
    // Persistence is off: a restart forgets every key, the harshest restart for K6.
    expect(await redisCommand(redis.port, 'GET harness-key')).toBe('$-1');
  });

  it('K4 harness: each run gets its own empty database, dropped afterwards', async () => {
    const first = await createRunDatabase('harness');
    const second = await createRunDatabase('harness');
    databases.push(first, second);
    expect(first.name).not.toBe(second.name);
    await first.query('CREATE TABLE marker (id int)');
    const tables = await second.query<{ n: string }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'marker'",
    );
    expect(Number(tables[0]?.n)).toBe(0);
    await first.drop();
    const client = new pg.Client({ connectionString: first.url });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow(/does not exist/);
  });
});
