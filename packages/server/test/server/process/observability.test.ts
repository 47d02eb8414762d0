/**
 * Health, readiness, Prometheus metrics and structured logs of the server
 * command, checked against what the test did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  type Frame,
  metric,
  ServerProcess,
  tempDir,
  waitUntil,
} from '../../harness/server-process.js';

afterEach(cleanup);

describe('[server] health and readiness', () => {
  it('[server] /healthz is ok and /readyz is ready on working storage', async () => {
    const server = await ServerProcess.start({ args: ['--data-dir', tempDir()] });
    const health = await server.get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
    const ready = await server.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ready', storage: 'sqlite', shuttingDown: false });
    expect((await server.get('/no-such-path')).status).toBe(404);
  });

  it('[P3] with unreachable PostgreSQL the server starts, /readyz is 503 and rooms do not open empty', async () => {
    const server = await ServerProcess.start({
      args: ['--storage', 'postgres', '--postgres-url', 'postgres://postgres@127.0.0.1:1/test'],
    });
    expect((await server.get('/healthz')).status).toBe(200);
    const ready = await server.get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'unavailable', storage: 'postgres' });

    const client = await server.connect('unreachable', 'c1');
    client.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    expect((await client.closed()).code).toBe(4503);
    expect(client.ofType('synced')).toEqual([]);
    // The process survives and keeps answering.
    expect((await server.get('/healthz')).status).toBe(200);
  });
});

describe('[server] /metrics', () => {
  it('[server] exposes the canvas metrics with values reflecting the traffic', async () => {
    const server = await ServerProcess.start({ args: ['--data-dir', tempDir()] });
    const writer = await server.connect('metered', 'writer');
    await writer.sync(0);
    const watcher = await server.connect('metered', 'watcher');
    await watcher.sync(0);
    for (let i = 0; i < 3; i++) await writer.write([{ [`e${i}/Shape`]: { x: i } }]);
    writer.send('{"type": not json');
    await writer.waitForFrame('the error', (f) => f.type === 'error');
    await watcher.waitForFrame('third broadcast', (f) => f.type === 'patch' && f.timestamp === 3);
    watcher.close(1000);
    await watcher.closed();

    const response = await server.get('/metrics');
    expect(response.status).toBe(200);
    const samples = await server.metrics();
    for (const name of [
      'canvas_connections',
      'canvas_rooms',
      'canvas_bytes_in_total',
      'canvas_ack_latency_seconds_bucket',
      'canvas_storage_commit_seconds_bucket',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(response.text).toContain(`# TYPE ${name.replace(/_bucket$/, '')} `);
      expect(metric(samples, name), name).toBeDefined();
    }
    // The watcher's close is seen server-side once its close handshake completes.
    const closes = await waitUntil('the close in the metrics', async () => {
      const current = await server.metrics();
      return metric(current, 'canvas_closes_total', { code: '1000' }) === 1 ? current : undefined;
    });
    expect(metric(closes, 'canvas_connections')).toBe(1);
    expect(metric(samples, 'canvas_rooms')).toBe(1);
    expect(metric(samples, 'canvas_frames_in_total', { type: 'patch' })).toBe(3);
    expect(metric(samples, 'canvas_frames_in_total', { type: 'reconnect' })).toBe(2);
    // Acks to the writer; broadcasts to the watcher.
    expect(metric(samples, 'canvas_frames_out_total', { type: 'ack' })).toBe(3);
    expect(metric(samples, 'canvas_frames_out_total', { type: 'patch' })).toBeGreaterThanOrEqual(3);
    expect(metric(samples, 'canvas_frames_out_total', { type: 'error' })).toBe(1);
    expect(metric(samples, 'canvas_frames_rejected_total', { reason: 'invalid-json' })).toBe(1);
    // Bytes of the accepted frames: two reconnects and the three patches.
    const reconnect = JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    const patches = [0, 1, 2].map((i) =>
      JSON.stringify({ type: 'patch', messageId: `m${i}`, documentPatches: [{ [`e${i}/Shape`]: { x: i } }] }),
    );
    const bytesIn = [reconnect, reconnect, ...patches].reduce(
      (sum, text) => sum + Buffer.byteLength(text),
      0,
    );
    expect(metric(samples, 'canvas_bytes_in_total')).toBe(bytesIn);
    expect(metric(samples, 'canvas_ack_latency_seconds_count')).toBe(3);
    expect(metric(samples, 'canvas_ack_latency_seconds_bucket', { le: '+Inf' })).toBe(3);
    // sqlite commits each write (possibly several per commit).
    expect(metric(samples, 'canvas_storage_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metric(samples, 'canvas_storage_commit_failures_total')).toBe(0);
    expect(metric(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });
});

describe('[server] logs', () => {
  it('[server] every stdout line is JSON, session lines name room and session, the token never appears', async () => {
    const token = 'tok-Zq9xSECRET-7f3c1e';
    const server = await ServerProcess.start({ args: ['--data-dir', tempDir(), '--log-level', 'trace'] });
    const client = await server.connect('logged-room', 'logged-client', { token });
    await client.sync(0);
    await client.write([{ 'a/B': { v: 1 } }]);
    client.send({ type: 'auth-refresh', token: `${token}-refreshed` });
    client.send('not json');
    await client.waitForFrame('the error', (f) => f.type === 'error');
    // A refused connection (no clientId) carrying the token too.
    await expect(server.connect('logged-room', '', { token })).rejects.toMatchObject({ status: 400 });
    client.close(1000);
    await client.closed();
    await waitUntil('the session closed line', () =>
      server.lines.some((l) => l.includes('"session closed"')),
    );
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const lines = server.lines.filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(3);
    const logs: Frame[] = lines.map((line) => {
      const parsed: unknown = JSON.parse(line);
      expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), line).toBe(true);
      return parsed as Frame;
    });
    for (const log of logs) {
      expect(typeof log.level).toBe('number');
      expect(typeof log.msg).toBe('string');
    }
    const connected = logs.filter((l) => l.msg === 'session connected');
    const closed = logs.filter((l) => l.msg === 'session closed');
    expect(connected).toHaveLength(1);
    expect(closed).toHaveLength(1);
    for (const line of [...connected, ...closed]) {
      expect(line.roomId).toBe('logged-room');
      expect(line.sessionId).toEqual(expect.any(String));
    }
    expect(closed[0]?.sessionId).toBe(connected[0]?.sessionId);
    expect(logs.some((l) => l.msg === 'connection refused')).toBe(true);
    const everything = server.lines.join('\n') + server.stderr;
    expect(everything).not.toContain('Zq9xSECRET');
  });
});

describe('[server] logs at shutdown', () => {
  it('[server] a graceful shutdown logs the close (1001) of every session it ends', async () => {
    const server = await ServerProcess.start({ args: ['--data-dir', tempDir()] });
    const first = await server.connect('room-1', 'c1');
    await first.sync(0);
    await first.write([{ 'a/B': { v: 1 } }]);
    const second = await server.connect('room-2', 'c2');
    await second.sync(0);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await first.closed()).code).toBe(1001);

    const logs = server.logs();
    const connected = logs.filter((l) => l.msg === 'session connected').map((l) => l.sessionId);
    const closed = logs.filter((l) => l.msg === 'session closed');
    expect(connected).toHaveLength(2);
    expect(closed.map((l) => l.sessionId).sort()).toEqual([...connected].sort());
    expect(closed.map((l) => l.code)).toEqual([1001, 1001]);
  });
});
