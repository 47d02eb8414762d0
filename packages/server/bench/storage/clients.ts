/**
 * Closed-loop `ws` clients speaking wire protocol 2: each sends a `reconnect`,
 * waits for `synced`, then sends one `patch`, waits for its `ack`, sends the next.
 */
import WebSocket from 'ws';

interface LoadOptions {
  port: number;
  roomId: string;
  clients: number;
  warmupMs: number;
  durationMs: number;
  /** Called once the warm-up ends (e.g. to sample the server's CPU time). */
  onWindowStart?: () => void | Promise<void>;
  /** Called when the window ends, before the clients stop. */
  onWindowEnd?: () => void | Promise<void>;
}

interface LoadResult {
  /** Acks received inside the measurement window. */
  acked: number;
  windowMs: number;
  /** Ack latencies (ms) of writes sent and acked inside the window, sorted. */
  latencies: Float64Array;
  /** Errors or closes seen (a healthy run has none). */
  problems: string[];
  /** CPU time of this (client) process during the window, ms. */
  clientCpuMs: number;
}

interface ClientState {
  ws: WebSocket;
  index: number;
  n: number;
  sentAt: number;
  pendingId: string;
  stopped: boolean;
}

function openClient(port: number, roomId: string, index: number): Promise<WebSocket> {
  const url = `ws://127.0.0.1:${port}/?roomId=${roomId}&clientId=bench-client-${index}&token=t`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${index}: no synced within 10 s`)), 10_000);
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
    });
    const onMessage = (data: WebSocket.RawData) => {
      const text = String(data);
      if (!text.includes('"synced"')) return;
      const message = JSON.parse(text) as { type?: unknown };
      if (message.type !== 'synced') return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(ws);
    };
    ws.on('message', onMessage);
  });
}

export async function runClosedLoop(options: LoadOptions): Promise<LoadResult> {
  const sockets = await Promise.all(
    Array.from({ length: options.clients }, (_, i) => openClient(options.port, options.roomId, i)),
  );
  const problems: string[] = [];
  const latencies: number[] = [];
  let acked = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;

  const sendNext = (client: ClientState) => {
    if (client.stopped) return;
    const n = client.n++;
    const key = `e${client.index}-${n % 1000}/Shape`;
    client.pendingId = `c${client.index}-${n}`;
    const frame = `{"type":"patch","messageId":"${client.pendingId}","documentPatches":[{"${key}":{"_exists":true,"x":${n},"y":${n}}}]}`;
    client.sentAt = performance.now();
    client.ws.send(frame);
  };

  const clients = sockets.map((ws, index): ClientState => {
    const client: ClientState = { ws, index, n: 0, sentAt: 0, pendingId: '', stopped: false };
    ws.on('message', (data: WebSocket.RawData) => {
      // Broadcasts of the other clients' writes far outnumber acks: only parse frames that may be acks.
      const text = String(data);
      if (!text.includes('"ack"')) return;
      const message = JSON.parse(text) as { type?: unknown; messageId?: unknown };
      if (message.type !== 'ack' || message.messageId !== client.pendingId) return;
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) {
        acked++;
        if (client.sentAt >= windowStart) latencies.push(now - client.sentAt);
      }
      if (now >= windowEnd) client.stopped = true;
      sendNext(client);
    });
    ws.on('close', (code) => {
      if (!client.stopped) problems.push(`client ${index} closed (${code})`);
      client.stopped = true;
    });
    ws.on('error', (error) => problems.push(`client ${index}: ${error.message}`));
    return client;
  });

  for (const client of clients) sendNext(client);
  await sleep(options.warmupMs);
  await options.onWindowStart?.();
  const cpuStart = process.cpuUsage();
  windowStart = performance.now();
  await sleep(options.durationMs);
  windowEnd = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  await options.onWindowEnd?.();
  for (const client of clients) client.stopped = true;
  // Let the last in-flight writes be acked before closing.
  await sleep(200);
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === WebSocket.CLOSED) return resolve();
          client.ws.once('close', () => resolve());
          client.ws.close(1000, 'done');
          setTimeout(resolve, 2_000).unref();
        }),
    ),
  );
  const sorted = Float64Array.from(latencies).sort();
  return {
    acked,
    windowMs: windowEnd - windowStart,
    latencies: sorted,
    problems,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `q` quantile (0..1) of sorted values, nearest-rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
