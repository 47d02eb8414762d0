/**
 * Load generator of the server benchmark, run as a child process (forked by
 * bench/server.bench.ts) so that it never shares an event loop with a server.
 *
 * Opens `clientsPerRoom` raw `ws` clients in each of `rooms` rooms, each
 * speaking wire protocol 2: `reconnect`, wait for `synced`; then, once told to
 * run, a closed loop: send one `patch`, wait for its `ack`, send the next.
 * Every client counts the broadcast `patch` frames it receives (deliveries)
 * and the latency of its acks. Frames are classified by their first bytes
 * (`{"type":"p…`), so the generator does not spend CPU parsing broadcasts.
 *
 * Snapshots read the server's CPU time from /proc at the same instant as the
 * counters, so the CPU and the deliveries cover the same window.
 */
import os from 'node:os';
import WebSocket from 'ws';
import type { FromLoadClient, ToLoadClient } from './ipc.js';
import { clockTicksPerSecond, mainThreadSchedstat, processCpuMicros } from './proc.js';

const CONNECT_TIMEOUT_MS = 15_000;
const MAX_PROBLEMS = 20;
/** Entities each client cycles through, so the document stays small. */
const KEYS_PER_CLIENT = 8;

const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
/** Index of the first letter of the type in `{"type":"…`. */
const TYPE_LETTER = 9;

interface Client {
  ws: WebSocket;
  clientId: string;
  seq: number;
  sentAt: number;
  pendingId: string | null;
}

const ticks = clockTicksPerSecond();
const clients: Client[] = [];
const problems: string[] = [];
let running = false;
let deliveries = 0;
let acks = 0;
let serverPid = 0;
let latencies = new Float64Array(1 << 16);
let latencyCount = 0;

function send(message: FromLoadClient): void {
  process.send?.(message);
}

function problem(text: string): void {
  if (problems.length < MAX_PROBLEMS) problems.push(text);
}

function recordLatency(ms: number): void {
  if (latencyCount === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[latencyCount++] = ms;
}

function sendNext(client: Client): void {
  const seq = ++client.seq;
  const messageId = `${client.clientId}:${seq}`;
  const key = `${client.clientId}-${seq % KEYS_PER_CLIENT}/Shape`;
  client.pendingId = messageId;
  client.sentAt = performance.now();
  client.ws.send(
    `{"type":"patch","messageId":"${messageId}","documentPatches":[{"${key}":{"_exists":true,"x":${seq},"y":${seq}}}]}`,
  );
}

function onAck(client: Client, data: Buffer): void {
  const now = performance.now();
  const message = JSON.parse(data.toString('utf8')) as { messageId?: unknown };
  if (message.messageId !== client.pendingId) {
    problem(`${client.clientId}: ack for ${String(message.messageId)}, expected ${client.pendingId}`);
    return;
  }
  client.pendingId = null;
  acks++;
  recordLatency(now - client.sentAt);
  if (running) sendNext(client);
}

function onFrame(client: Client, data: Buffer): void {
  if (data[0] === OPEN_BRACE && data[TYPE_LETTER - 1] === QUOTE) {
    switch (data[TYPE_LETTER]) {
      case 0x70: // 'p'atch: a broadcast of another client's write
        deliveries++;
        return;
      case 0x61: // 'a'ck
        onAck(client, data);
        return;
      case 0x63: // 'c'lientCount
      case 0x73: // 's'ynced (handled while connecting)
        return;
      default:
        break;
    }
  }
  const text = data.toString('utf8');
  const message = JSON.parse(text) as { type?: unknown };
  if (message.type === 'patch') deliveries++;
  else if (message.type === 'ack') onAck(client, data);
  else if (message.type !== 'clientCount' && message.type !== 'synced') {
    problem(`${client.clientId}: unexpected frame ${text.slice(0, 200)}`);
  }
}

function openClient(url: string, roomId: string, clientId: string): Promise<Client> {
  const ws = new WebSocket(`${url}/?roomId=${roomId}&clientId=${clientId}&token=bench`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  const client: Client = { ws, clientId, seq: 0, sentAt: 0, pendingId: null };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${clientId}: no synced within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
    const onConnectError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    ws.once('error', onConnectError);
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
    });
    const onConnectFrame = (data: Buffer) => {
      const text = data.toString('utf8');
      if (!text.includes('"synced"')) return;
      const message = JSON.parse(text) as { type?: unknown };
      if (message.type !== 'synced') return;
      clearTimeout(timer);
      ws.off('message', onConnectFrame);
      ws.off('error', onConnectError);
      ws.on('message', (frame: Buffer) => onFrame(client, frame));
      ws.on('error', (error) => problem(`${clientId}: ${error.message}`));
      ws.on('close', (code) => {
        if (running) problem(`${clientId}: closed with ${code} while running`);
      });
      resolve(client);
    };
    ws.on('message', onConnectFrame);
  });
}

async function connect(message: Extract<ToLoadClient, { type: 'connect' }>): Promise<void> {
  serverPid = message.serverPid;
  const started = performance.now();
  const open = (room: number, index: number) =>
    openClient(message.url, `${message.roomPrefix}-${room}`, `r${room}c${index}`);
  // The first client of each room first, the others once their room exists: the published
  // server's RoomManager gives concurrent first connects to one room separate Room objects
  // (each loads its storage before the room is registered), which would split the room.
  const rooms = Array.from({ length: message.rooms }, (_, room) => room);
  clients.push(...(await Promise.all(rooms.map((room) => open(room, 0)))));
  const rest: Promise<Client>[] = [];
  for (const room of rooms) {
    for (let index = 1; index < message.clientsPerRoom; index++) rest.push(open(room, index));
  }
  clients.push(...(await Promise.all(rest)));
  send({ type: 'connected', clients: clients.length, connectMs: performance.now() - started });
}

function snapshot(): void {
  const at = performance.now();
  const monotonicUs = Number(process.hrtime.bigint() / 1000n);
  const serverCpu = processCpuMicros(serverPid, ticks);
  const sched = mainThreadSchedstat(serverPid);
  const usage = process.cpuUsage();
  const window = latencies.slice(0, latencyCount);
  latencyCount = 0;
  send({
    type: 'snapshot',
    at,
    monotonicUs,
    deliveries,
    acks,
    serverCpuMicros: serverCpu.user + serverCpu.system,
    serverSystemMicros: serverCpu.system,
    serverMainRunNs: sched.runNs,
    serverMainWaitNs: sched.waitNs,
    clientCpuMicros: usage.user + usage.system,
    latencies: window,
    loadavg: os.loadavg()[0] ?? 0,
  });
}

async function stop(): Promise<void> {
  running = false;
  await Promise.all(
    clients.map(
      ({ ws }) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 2_000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1000, 'bench done');
        }),
    ),
  );
  send({ type: 'stopped', problems });
}

function fail(error: unknown): void {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  for (const { ws } of clients) ws.terminate();
  process.exitCode = 1;
}

process.on('message', (raw: ToLoadClient) => {
  try {
    switch (raw.type) {
      case 'connect':
        connect(raw).catch(fail);
        return;
      case 'run':
        running = true;
        for (const client of clients) sendNext(client);
        return;
      case 'snapshot':
        snapshot();
        return;
      case 'stop':
        stop().catch(fail);
        return;
    }
  } catch (error) {
    fail(error);
  }
});
// The benchmark disconnects when it is done with this process; never outlive it.
process.on('disconnect', () => {
  for (const { ws } of clients) ws.terminate();
  process.exit();
});
