import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Finds event-loop stalls with a 1 ms timer and splits each into the time the
 * main thread waited for a CPU and the rest. On a shared machine the scheduler
 * can keep a runnable process off the CPU for tens of ms: such a gap shows in
 * `monitorEventLoopDelay` but is not work of ours. The rest (running, or
 * blocked in a synchronous system call such as an fsync) is ours.
 *
 * The main thread's run time and run-queue wait come from
 * `/proc/<pid>/task/<pid>/schedstat` (one `pread`, ~2 µs per sample). Where
 * that file does not exist nothing is excluded.
 */
export class StallSampler {
  maxGapMs = 0;
  /** Time the main thread ran during the longest gap. */
  runOfMaxGapMs = 0;
  /** Time the main thread waited for a CPU during the longest gap (Linux only, else NaN). */
  waitOfMaxGapMs = Number.NaN;
  /** The longest gap minus its wait for a CPU: the longest stall that was our own doing. */
  maxOwnMs = 0;
  readonly source: 'schedstat' | 'cpuUsage';
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private lastRun = 0;
  private lastWait = 0;
  private readonly fd: number | null;
  private readonly buffer = Buffer.alloc(128);

  constructor() {
    let fd: number | null = null;
    try {
      fd = openSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'r');
      this.readSchedstat(fd);
    } catch {
      if (fd !== null) closeSync(fd);
      fd = null;
    }
    this.fd = fd;
    this.source = fd === null ? 'cpuUsage' : 'schedstat';
  }

  start(): void {
    [this.lastRun, this.lastWait] = this.read();
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(), 1);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    if (this.fd !== null) closeSync(this.fd);
  }

  private sample(): void {
    const now = performance.now();
    const [run, wait] = this.read();
    const gap = now - this.last;
    const runMs = run - this.lastRun;
    if (gap > this.maxGapMs) {
      this.maxGapMs = gap;
      this.runOfMaxGapMs = runMs;
      this.waitOfMaxGapMs = this.fd === null ? Number.NaN : wait - this.lastWait;
    }
    this.maxOwnMs = Math.max(this.maxOwnMs, gap - (this.fd === null ? 0 : wait - this.lastWait));
    this.last = now;
    this.lastRun = run;
    this.lastWait = wait;
  }

  /** Cumulative [run, wait] in ms (without schedstat: process CPU time, and no wait). */
  private read(): [number, number] {
    if (this.fd === null) {
      const cpu = process.cpuUsage();
      return [(cpu.user + cpu.system) / 1000, 0];
    }
    return this.readSchedstat(this.fd);
  }

  private readSchedstat(fd: number): [number, number] {
    const length = readSync(fd, this.buffer, 0, this.buffer.length, 0);
    const [run, wait] = this.buffer.toString('latin1', 0, length).split(' ');
    const runNs = Number(run);
    const waitNs = Number(wait);
    if (!Number.isFinite(runNs) || !Number.isFinite(waitNs)) throw new Error('unexpected schedstat format');
    return [runNs / 1e6, waitNs / 1e6];
  }
}
