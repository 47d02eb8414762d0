/**
 * Linux `/proc` helpers of the server benchmark: CPU time of another process
 * and the TCP port a process listens on (so servers can be started with `--port 0`).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, normally 100). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * User and system CPU time of every thread of `pid` so far, in microseconds
 * (`utime` and `stime` of `/proc/<pid>/stat`; resolution one clock tick, 10 ms).
 */
export function processCpuMicros(pid: number, ticksPerSecond: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) is rest[11] and stime (field 15) rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc/${pid}/stat`);
  return { user: (utime * 1_000_000) / ticksPerSecond, system: (stime * 1_000_000) / ticksPerSecond };
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  return inodes;
}

/** The TCP port `pid` listens on, or null when it does not listen yet. */
export function listeningPort(pid: number): number | null {
  const inodes = socketInodes(pid);
  if (inodes.size === 0) return null;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is field 1 (ip:port in hex), st field 3 (0A = LISTEN), inode field 9.
      const local = fields[1];
      if (fields[3] !== '0A' || !local || !inodes.has(fields[9] ?? '')) continue;
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (Number.isFinite(port) && port > 0) return port;
    }
  }
  return null;
}

/**
 * Scheduler statistics of the main thread of `pid` so far (`/proc/<pid>/schedstat`):
 * time on a CPU and time runnable but waiting for a CPU, in nanoseconds.
 */
export function mainThreadSchedstat(pid: number): { runNs: number; waitNs: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { runNs: run ?? Number.NaN, waitNs: wait ?? Number.NaN };
}
