/**
 * Reads the server under test from outside: the last line of the stats file
 * its preload writes, its RSS, and the bytes the kernel holds on its loopback
 * TCP connections in both directions (/proc/net/tcp: send and receive queues
 * of both ends), so frames the server has not read yet count as well as
 * frames the clients have not read.
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

/** Parses /proc/net/tcp text: send plus receive queues of every socket with `port` at either end. */
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
    if (local.endsWith(hexPort) || remote.endsWith(hexPort)) total += (tx ?? 0) + (rx ?? 0);
  }
  return total;
}

/** Kernel-queued bytes on the server's loopback connections right now. */
export function kernelQueuedBytes(port: number): number {
  return queuedBytesOnPort(readFileSync('/proc/net/tcp', 'utf8'), port);
}

/** Resident set size of `pid` now, bytes (/proc/<pid>/statm; fresh even when the process's event loop is busy). */
export function rssBytes(pid: number): number {
  const resident = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
  return resident * 4096;
}
