// A complete collaboration server on `ws` in ~40 lines: the example of docs/library.md.
// Run it with `node packages/server/examples/basic-server.mjs` after `npm run build`
// (`npm start` runs the full server command instead), then point clients at ws://localhost:8080.
import { createServer } from 'node:http';
import { acceptConnection, RoomManager, SqliteStorage } from 'canvas-store-server';
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 8080);
const dataDir = process.env.CANVAS_DATA_DIR ?? './data';

// Durable embedded storage: every acked write is committed to SQLite first.
const sqlite = new SqliteStorage({ path: `${dataDir}/rooms.db` });
const manager = new RoomManager({
  createStorage: (roomId) => sqlite.forRoom(roomId),
  idleTimeout: 30_000,
});

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('canvas-store-server is running\n');
});
const wss = new WebSocketServer({ server, maxPayload: 2 * 1024 * 1024 });

wss.on('connection', (ws, req) => {
  const conn = acceptConnection({
    socket: ws,
    url: req.url ?? '',
    request: req,
    manager,
    // Development only: every token is accepted with full write access.
    authorize: () => ({ permissions: 'readwrite' }),
  });
  ws.on('message', (data) => conn.onMessage(String(data)));
  ws.on('close', () => conn.onClose());
  ws.on('error', () => conn.onError());
  conn.ready.catch((error) => console.warn(`connection refused: ${error.message}`));
});

async function shutdown() {
  wss.close();
  for (const client of wss.clients) client.close(1001, 'server shutting down');
  await manager.closeAll();
  await sqlite.close();
  server.close(() => process.exit(0));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

server.listen(port, () =>
  console.log(`canvas-store-server listening on ws://localhost:${server.address().port}`),
);
