/**
 * Load generator of the cluster benchmark, a child process of
 * cluster.bench.ts (never sharing an event loop with a node). Opens raw `ws`
 * clients spread over the nodes, then runs a closed loop per client: one
 * `patch`, wait for its `ack`, the next. Counts broadcasts received
 * (deliveries) and ack latencies, split by whether the client sits on its
 * room's owner or on a node that forwards its writes.
 */
import WebSocket from 'ws';
import type { ClusterSnapshot, FromClusterLoad, ToClusterLoad } from './cluster-ipc.js';

const CONNECT_TIMEOUT_MS = 30_000;
const KEYS_PER_CLIENT = 8;

interface Client {
  ws: WebSocket;
  roomId: string;
  clientId: string;
  node: number;
  seq: number;
  sentAt: number;
}

const clients: Client[] = [];
let owners: Record<string, number> = {};
let running = false;
const counters: ClusterSnapshot = {
  deliveries: 0,
  acks: 0,
  ownerLatencies: [],
  forwardedLatencies: [],
  closes: 0,
};

function send(message: FromClusterLoad): void {
  process.send?.(message);
}

function sendNext(client: Client): void {
  const seq = ++client.seq;
  const key = `${client.clientId}-${seq % KEYS_PER_CLIENT}/Shape`;
  client.sentAt = performance.now();
  client.ws.send(
    `{"type":"patch","messageId":"${seq}","documentPatches":[{"${key}":{"_exists":true,"x":${seq},"y":${seq}}}]}`,
  );
}

function onFrame(client: Client, data: Buffer): void {
  const text = data.toString('utf8');
  // Classify by the first bytes, as the server benchmark does: parsing every broadcast would load this process.
  if (text.startsWith('{"type":"patch"')) {
    counters.deliveries++;
    return;
  }
  if (!text.startsWith('{"type":"ack"')) return;
  const latency = performance.now() - client.sentAt;
  counters.acks++;
  const onOwner = owners[client.roomId] === client.node;
  (onOwner ? counters.ownerLatencies : counters.forwardedLatencies).push(latency);
  if (running) sendNext(client);
}

function open(url: string, node: number, roomId: string, clientId: string): Promise<Client> {
  const ws = new WebSocket(`${url}?roomId=${roomId}&clientId=${clientId}&token=bench`, {
    perMessageDeflate: false,
  });
  const client: Client = { ws, roomId, clientId, node, seq: 0, sentAt: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${clientId}: no synced`)), CONNECT_TIMEOUT_MS);
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('open', () => ws.send('{"type":"reconnect","lastTimestamp":0,"protocolVersion":2}'));
    const onConnect = (data: Buffer) => {
      if (!data.toString('utf8').includes('"synced"')) return;
      clearTimeout(timer);
      ws.off('message', onConnect);
      ws.on('message', (frame: Buffer) => onFrame(client, frame));
      ws.on('close', () => {
        if (running) counters.closes++;
      });
      resolve(client);
    };
    ws.on('message', onConnect);
  });
}

async function connect(message: Extract<ToClusterLoad, { type: 'connect' }>): Promise<void> {
  const rooms = Array.from({ length: message.rooms }, (_, r) => `${message.roomPrefix}-${r}`);
  const nodeOf = (r: number, c: number) => (r + c) % message.urls.length;
  const openOne = (r: number, c: number) => {
    const node = nodeOf(r, c);
    return open(message.urls[node] as string, node, rooms[r] as string, `r${r}c${c}`);
  };
  // The first client of each room first: it makes the room (and, in a cluster, its owner).
  clients.push(...(await Promise.all(rooms.map((_, r) => openOne(r, 0)))));
  const rest: Promise<Client>[] = [];
  for (let r = 0; r < rooms.length; r++) {
    for (let c = 1; c < message.clientsPerRoom; c++) rest.push(openOne(r, c));
  }
  clients.push(...(await Promise.all(rest)));
  send({ type: 'connected', clients: clients.length, rooms });
}

function snapshot(): void {
  send({ type: 'snapshot', ...counters });
  counters.ownerLatencies = [];
  counters.forwardedLatencies = [];
}

function fail(error: unknown): void {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  for (const { ws } of clients) ws.terminate();
}

process.on('message', (raw: ToClusterLoad) => {
  switch (raw.type) {
    case 'connect':
      connect(raw).catch(fail);
      return;
    case 'owners':
      owners = raw.owners;
      return;
    case 'run':
      running = true;
      for (const client of clients) sendNext(client);
      return;
    case 'snapshot':
      snapshot();
      return;
    case 'stop':
      running = false;
      for (const { ws } of clients) ws.terminate();
      send({ type: 'stopped' });
      return;
  }
});
process.on('disconnect', () => {
  for (const { ws } of clients) ws.terminate();
  process.exit();
});
