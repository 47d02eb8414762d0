/**
 * Reads the server under test from outside: the last line of the stats file
 * its preload writes, and the bytes the kernel holds on its loopback TCP
 * connections (/proc/net/tcp: the server side's unacknowledged send queue plus
 * the client side's unread receive queue).
 */
import { readFileSync } from 'node:fs';
import type { ServerStatsLine } from './server-stats-preload.js';

/** The newest line of a stats file, or null when there is none yet. */
export function lastStats(file: string): ServerStatsLine | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const end = text.lastIndexOf('\n', text.length - 2);
  const line = text.slice(end + 1).trim();
  return line ? (JSON.parse(line) as ServerStatsLine) : null;
}

/**
 * Parses /proc/net/tcp text: the send queue of sockets whose local port is
 * `port` plus the receive queue of sockets whose remote port is `port`.
 */
export function queuedBytesOnPort(procNetTcp: string, port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let total = 0;
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const remote = fields[2];
    const queues = fields[4];
    if (!local || !remote || !queues) continue;
    const [tx, rx] = queues.split(':').map((hex) => Number.parseInt(hex, 16));
    if (local.endsWith(hexPort)) total += tx ?? 0;
    else if (remote.endsWith(hexPort)) total += rx ?? 0;
  }
  return total;
}

/** Kernel-queued bytes on the server's loopback connections right now. */
export function kernelQueuedBytes(port: number): number {
  return queuedBytesOnPort(readFileSync('/proc/net/tcp', 'utf8'), port);
}
