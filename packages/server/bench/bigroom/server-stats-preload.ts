/**
 * Preloaded into the server under test (`node --import tsx --import
 * server-stats-preload.ts ...`), the same way for our server and the published
 * one: every `BIGROOM_STATS_MS` it appends one JSON line to `BIGROOM_STATS_FILE`
 * with the process's CPU time, RSS and the bytes waiting in its sockets' write
 * buffers (the userland part of a `ws` socket's `bufferedAmount`), so the
 * benchmark reads the backlog without any help from the server's own code.
 */
import { appendFileSync } from 'node:fs';
import net from 'node:net';

/** One line of the stats file. */
export interface ServerStatsLine {
  /** Monotonic clock (process.hrtime), µs: comparable across processes on one machine. */
  monoUs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  /** Sum of `writableLength` over the accepted sockets still open. */
  bufferedBytes: number;
  sockets: number;
}

const file = process.env.BIGROOM_STATS_FILE;
const everyMs = Number(process.env.BIGROOM_STATS_MS ?? '250');

if (file) {
  const sockets = new Set<net.Socket>();
  // Accepted connections are announced by the listening server's 'connection'
  // event; http.Server and every ws server built on it emit through this method.
  const emit = net.Server.prototype.emit as (
    this: net.Server,
    event: string | symbol,
    ...args: unknown[]
  ) => boolean;
  (net.Server.prototype as { emit: typeof emit }).emit = function patchedEmit(
    this: net.Server,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (event === 'connection' && args[0] instanceof net.Socket) {
      const socket = args[0];
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    return emit.call(this, event, ...args);
  };
  const write = () => {
    let bufferedBytes = 0;
    for (const socket of sockets) bufferedBytes += socket.writableLength;
    const cpu = process.cpuUsage();
    const line: ServerStatsLine = {
      monoUs: Number(process.hrtime.bigint() / 1000n),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      bufferedBytes,
      sockets: sockets.size,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  setInterval(write, Number.isFinite(everyMs) && everyMs > 0 ? everyMs : 250).unref();
  write();
}
