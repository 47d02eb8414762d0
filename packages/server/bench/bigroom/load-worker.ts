/**
 * Load-generator process of the big-room benchmark (forked by
 * bench/bigroom/processes.ts): holds a share of one room's clients as raw
 * `ws` sockets speaking wire protocol 2. Movers send an ephemeral-only cursor
 * patch at `cursorHz` carrying their send time (monotonic µs, comparable
 * across processes); writers send a shape document patch at `writeHz`.
 * Every client counts the cursor updates it receives by scanning frames for
 * the cursor field (no JSON parsing, so the generator stays cheap); probe
 * clients also read each update's send time and record its delay.
 */
import WebSocket from 'ws';
import { roleOf } from './config.js';
import type { FromWorker, ToWorker } from './ipc.js';

const CONNECT_TIMEOUT_MS = 60_000;
const MAX_FAILURES = 20;
/** Scheduler resolution of the senders, ms. */
const TICK_MS = 5;
/** The cursor field that carries the send time; also what receivers count. */
const MARKER = Buffer.from('"sentUs":');
const TYPE_LETTER = 9; // `{"type":"p…` → index of 'p'
const LETTER_P = 0x70;
const LETTER_S = 0x73;

interface Client {
  index: number;
  clientId: string;
  ws: WebSocket | null;
  mover: boolean;
  writer: boolean;
  probe: boolean;
  seq: number;
  nextCursorAt: number;
  nextWriteAt: number;
}

type Setup = Extract<ToWorker, { type: 'setup' }>;

let setup: Setup | null = null;
const clients = new Map<number, Client>();
let running = false;
let scheduler: NodeJS.Timeout | null = null;
const counters = { cursorUpdates: 0, cursorsSent: 0, writesSent: 0, shapeDeliveries: 0, lateTicks: 0 };
let delays = new Float64Array(1 << 16);
let delayCount = 0;
const closes: Record<string, number> = {};

function send(message: FromWorker): void {
  process.send?.(message);
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

function recordDelay(ms: number): void {
  if (delayCount === delays.length) {
    const grown = new Float64Array(delays.length * 2);
    grown.set(delays);
    delays = grown;
  }
  delays[delayCount++] = ms;
}

/** Counts the cursor updates in a broadcast; a probe also records each one's delay. */
function onPatch(client: Client, data: Buffer): void {
  let at = data.indexOf(MARKER);
  if (at === -1) {
    counters.shapeDeliveries++;
    return;
  }
  const arrivedUs = client.probe ? nowUs() : 0;
  while (at !== -1) {
    counters.cursorUpdates++;
    let pos = at + MARKER.length;
    if (client.probe) {
      let sentUs = 0;
      for (let byte = data[pos]; byte !== undefined && byte >= 0x30 && byte <= 0x39; byte = data[++pos]) {
        sentUs = sentUs * 10 + (byte - 0x30);
      }
      recordDelay((arrivedUs - sentUs) / 1000);
    }
    at = data.indexOf(MARKER, pos);
  }
}

function onFrame(client: Client, data: Buffer): void {
  // Acks, clientCount and the rest only need to be read off the socket.
  if (data[TYPE_LETTER] === LETTER_P) onPatch(client, data);
}

function join(client: Client, url: string, roomId: string): Promise<number> {
  const started = performance.now();
  const ws = new WebSocket(`${url}/?roomId=${roomId}&clientId=${client.clientId}&token=bench`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  client.ws = ws;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${client.clientId}: no synced within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('open', () =>
      ws.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 })),
    );
    ws.on('close', (code) => {
      clearTimeout(timer);
      closes[code] = (closes[code] ?? 0) + 1;
      reject(new Error(`${client.clientId}: closed with ${code} before synced`));
    });
    const onConnectFrame = (data: Buffer) => {
      if (data[TYPE_LETTER] !== LETTER_S || !data.toString('utf8', 0, 40).includes('"synced"')) return;
      clearTimeout(timer);
      ws.off('message', onConnectFrame);
      ws.on('message', (frame: Buffer) => onFrame(client, frame));
      resolve(performance.now() - started);
    };
    ws.on('message', onConnectFrame);
  });
}

async function joinAll(indices: number[], withinMs: number): Promise<void> {
  if (!setup) throw new Error('join before setup');
  const { url, roomId } = setup;
  const joinMs = new Float64Array(indices.length);
  const failures: string[] = [];
  const started = performance.now();
  await Promise.all(
    indices.map(async (index, position) => {
      const client = clients.get(index);
      if (!client) throw new Error(`client ${index} is not in this worker's share`);
      const startAt = started + (withinMs * position) / Math.max(1, indices.length);
      const wait = startAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        joinMs[position] = await join(client, url, roomId);
      } catch (error) {
        joinMs[position] = Number.NaN;
        if (failures.length < MAX_FAILURES)
          failures.push(error instanceof Error ? error.message : String(error));
      }
    }),
  );
  send({ type: 'joined', joinMs, failures });
}

function sendCursor(client: Client): void {
  const seq = ++client.seq;
  const x = (seq * 7 + client.index) % 2000;
  const y = (seq * 3 + client.index) % 1200;
  client.ws?.send(
    `{"type":"patch","messageId":"${client.clientId}:${seq}","ephemeralPatches":[{"${client.clientId}/Cursor":{"_exists":true,"x":${x},"y":${y},"sentUs":${nowUs()}}}]}`,
  );
  counters.cursorsSent++;
}

function sendWrite(client: Client): void {
  const seq = ++client.seq;
  client.ws?.send(
    `{"type":"patch","messageId":"${client.clientId}:${seq}","documentPatches":[{"${client.clientId}-${seq % 8}/Shape":{"_exists":true,"x":${seq},"y":${seq},"w":40,"h":30}}]}`,
  );
  counters.writesSent++;
}

function startSending(): void {
  if (!setup) throw new Error('run before setup');
  const cursorPeriod = 1000 / setup.cursorHz;
  const writePeriod = 1000 / setup.writeHz;
  const now = performance.now();
  // Random phases, so the movers do not all send in the same millisecond.
  for (const client of clients.values()) {
    client.nextCursorAt = now + Math.random() * cursorPeriod;
    client.nextWriteAt = now + Math.random() * writePeriod;
  }
  running = true;
  scheduler = setInterval(() => {
    const at = performance.now();
    for (const client of clients.values()) {
      if (client.ws?.readyState !== WebSocket.OPEN) continue;
      if (client.mover && at >= client.nextCursorAt) {
        sendCursor(client);
        client.nextCursorAt += cursorPeriod;
        // Behind by more than a period: skip (and count) rather than burst.
        if (at - client.nextCursorAt > cursorPeriod) {
          counters.lateTicks++;
          client.nextCursorAt = at + cursorPeriod;
        }
      }
      if (client.writer && at >= client.nextWriteAt) {
        sendWrite(client);
        client.nextWriteAt = Math.max(client.nextWriteAt + writePeriod, at);
      }
    }
  }, TICK_MS);
}

function sample(): void {
  const usage = process.cpuUsage();
  const window = delays.slice(0, delayCount);
  delayCount = 0;
  send({
    type: 'sample',
    ...counters,
    delays: window,
    cpuMicros: usage.user + usage.system,
    closes: { ...closes },
  });
  counters.cursorUpdates = 0;
  counters.cursorsSent = 0;
  counters.writesSent = 0;
  counters.shapeDeliveries = 0;
  counters.lateTicks = 0;
}

function stop(): void {
  running = false;
  if (scheduler) clearInterval(scheduler);
  for (const client of clients.values()) client.ws?.terminate();
  send({ type: 'stopped' });
}

function configure(message: Setup): void {
  setup = message;
  let probes = 0;
  for (let index = message.first; index < message.first + message.count; index++) {
    const role = roleOf(index, message.size, message);
    // Probes are plain receivers (neither moving nor writing), like most of a big room.
    const probe = !role.mover && !role.writer && probes < message.probes;
    if (probe) probes++;
    clients.set(index, {
      index,
      clientId: `c${index}`,
      ws: null,
      ...role,
      probe,
      seq: 0,
      nextCursorAt: 0,
      nextWriteAt: 0,
    });
  }
  send({ type: 'ready' });
}

function fail(error: unknown): void {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  for (const client of clients.values()) client.ws?.terminate();
  process.exitCode = 1;
}

process.on('message', (message: ToWorker) => {
  try {
    switch (message.type) {
      case 'setup':
        configure(message);
        return;
      case 'join':
        joinAll(message.indices, message.withinMs).catch(fail);
        return;
      case 'run':
        if (!running) startSending();
        return;
      case 'sample':
        sample();
        return;
      case 'stop':
        stop();
        return;
    }
  } catch (error) {
    fail(error);
  }
});
// Never outlive the benchmark.
process.on('disconnect', () => {
  for (const client of clients.values()) client.ws?.terminate();
  process.exit();
});
