/**
 * The bare relay of the server benchmark: the least work a server speaking
 * wire protocol 2 can do. A `ws` server that answers `reconnect` with `synced`,
 * and for each `patch` sends the `ack` and forwards one broadcast to every
 * other client of the room. No document, no storage, no validation, and each
 * frame is written on its own (`ws.send` per frame, no corking or batching).
 *
 * Usage: node --import tsx relay-server.ts --port 0 --host 127.0.0.1
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { type WebSocket, WebSocketServer } from 'ws';

interface RelayRoom {
  clients: Set<WebSocket>;
  clock: number;
}

interface ClientFrame {
  type?: unknown;
  messageId?: unknown;
  documentPatches?: unknown;
  ephemeralPatches?: unknown;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const rooms = new Map<string, RelayRoom>();
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end('bare relay\n');
});
const wss = new WebSocketServer({ server, maxPayload: 2 * 1024 * 1024 });

wss.on('connection', (ws, req) => {
  const params = new URL(req.url ?? '/', 'http://relay.invalid').searchParams;
  const roomId = params.get('roomId') ?? '';
  const clientId = params.get('clientId') ?? '';
  let room = rooms.get(roomId);
  if (!room) {
    room = { clients: new Set(), clock: 0 };
    rooms.set(roomId, room);
  }
  const joined = room;
  joined.clients.add(ws);
  ws.on('message', (data) => {
    let frame: ClientFrame;
    try {
      frame = JSON.parse(String(data)) as ClientFrame;
    } catch {
      return;
    }
    if (frame.type === 'reconnect') {
      ws.send(JSON.stringify({ type: 'synced', timestamp: joined.clock }));
      return;
    }
    if (frame.type !== 'patch') return;
    const timestamp = ++joined.clock;
    ws.send(JSON.stringify({ type: 'ack', messageId: frame.messageId, timestamp }));
    const broadcast = JSON.stringify({
      type: 'patch',
      clientId,
      documentPatches: frame.documentPatches,
      ephemeralPatches: frame.ephemeralPatches,
      timestamp,
    });
    for (const peer of joined.clients) {
      if (peer !== ws && peer.readyState === peer.OPEN) peer.send(broadcast);
    }
  });
  ws.on('close', () => {
    joined.clients.delete(ws);
    if (joined.clients.size === 0) rooms.delete(roomId);
  });
  ws.on('error', () => ws.terminate());
});

function shutdown(): void {
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.close(() => process.exit(0));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

server.listen(Number(values.port), values.host);
