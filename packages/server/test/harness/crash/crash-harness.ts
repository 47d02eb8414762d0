/**
 * Crash-test harness: runs crash-server.ts as a child process, streams acked
 * writes into it, SIGKILLs it after a given number of acks, restarts it on the
 * same data and checks that every acked write and deletion is still there
 * (SPEC P2, O4, D7, D9).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { AckedModel, type Expected, readRoom, Writer } from './wire-clients.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./crash-server.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../../..', import.meta.url));

const live = new Set<ServerProcess>();

/** SIGKILLs every server process still running (afterEach, and when the test process exits). */
export function killAllServers(): void {
  for (const server of live) server.killNow();
}
process.once('exit', killAllServers);

/** One run of crash-server.ts. */
class ServerProcess {
  private stderr = '';
  readonly exited: Promise<void>;
  private hasExited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly port: number,
  ) {
    live.add(this);
    this.exited = new Promise((resolve) => {
      const done = () => {
        this.hasExited = true;
        live.delete(this);
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) done();
      else child.once('exit', done);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += String(chunk);
    });
  }

  /** Starts the server with `args` and resolves once it prints its port. */
  static start(args: string[]): Promise<ServerProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER_SCRIPT, ...args], {
      cwd: PACKAGE_DIR,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    return new Promise((resolve, reject) => {
      const onStderr = (chunk: Buffer) => {
        stderr += String(chunk);
      };
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`crash server exited before listening (${code ?? signal}):\n${stderr}`));
      const onStdout = (chunk: Buffer) => {
        stdout += String(chunk);
        const match = /^PORT (\d+)$/m.exec(stdout);
        if (!match) return;
        child.stdout.off('data', onStdout);
        child.stderr.off('data', onStderr);
        child.off('exit', onExit);
        const server = new ServerProcess(child, Number(match[1]));
        server.stderr = stderr;
        resolve(server);
      };
      child.stdout.on('data', onStdout);
      child.stderr.on('data', onStderr);
      child.once('exit', onExit);
      child.once('error', reject);
    });
  }

  /** Sends SIGKILL at once (no-op once exited). */
  killNow(): void {
    if (!this.hasExited) this.child.kill('SIGKILL');
  }

  /** What the server logged, for failure messages. */
  get log(): string {
    return this.stderr.slice(-4_000);
  }
}

/** One backend under test. */
export interface CrashScenario {
  /** Name for logs. */
  name: string;
  /** Arguments of crash-server.ts after the script. */
  args: string[];
  /** Acks (writes and deletions) counted in each round before its SIGKILL. */
  killAfterAcks: number[];
}

/** What a crash run checked. */
export interface CrashReport {
  /** Acked operations verified after each restart (cumulative, so the same write is checked again later). */
  verifiedPerRestart: number[];
  /** Of which deletions, per restart. */
  deletionsPerRestart: number[];
  /** Acks received over the whole run. */
  totalAcks: number;
  /** Operations sent but unacked when the server was killed, over the whole run. */
  inFlightAtKills: number;
}

const ROOMS = { 'crash-room-a': ['w0', 'w1'], 'crash-room-b': ['w2', 'w3'] } as const;

function describeExpected(expected: Expected): Record<string, unknown> {
  return expected.kind === 'live' ? { _exists: true, v: expected.v } : { _exists: false };
}

/**
 * Checks every acked operation of `model` against a fresh reader's reconnect
 * reply (lastTimestamp 0), and against one with lastTimestamp set to the median
 * ack clock (every operation acked after it must be in that reply too: the
 * per-field stamps survived). Returns a list of failures, empty when all held.
 */
export async function verifyAcked(
  port: number,
  model: AckedModel,
  counts: { verified: number; deletions: number },
): Promise<string[]> {
  const failures: string[] = [];
  for (const [roomId, keys] of model.rooms) {
    const full = await readRoom(port, roomId, 0);
    let maxAck = 0;
    const clocks: number[] = [];
    for (const [key, expected] of keys) {
      counts.verified++;
      if (expected.kind === 'deleted') counts.deletions++;
      maxAck = Math.max(maxAck, expected.timestamp);
      clocks.push(expected.timestamp);
      const want = describeExpected(expected);
      const got = full.state.get(key);
      if (!isDeepStrictEqual(got, want)) {
        failures.push(
          `${roomId} ${key}: acked ${JSON.stringify(want)} at clock ${expected.timestamp}, ` +
            `restarted server has ${JSON.stringify(got)}`,
        );
      }
    }
    if (full.timestamp < maxAck) {
      failures.push(
        `${roomId}: restarted clock ${full.timestamp} is below the highest acked clock ${maxAck}`,
      );
    }
    clocks.sort((a, b) => a - b);
    const since = clocks[Math.floor(clocks.length / 2)] ?? 0;
    const partial = await readRoom(port, roomId, since);
    for (const [key, expected] of keys) {
      if (expected.timestamp <= since) continue;
      const got = partial.state.get(key);
      if (!isDeepStrictEqual(got, describeExpected(expected))) {
        failures.push(
          `${roomId} ${key}: acked at clock ${expected.timestamp} but missing from the reply since ${since} ` +
            `(got ${JSON.stringify(got)})`,
        );
      }
    }
  }
  return failures;
}

/**
 * Runs the scenario: for each kill point, (re)start the server on the same
 * data, verify everything acked so far, write until that many acks arrived,
 * SIGKILL. Finally restart once more and verify. Throws with the lost writes
 * and the server log when anything acked is missing.
 */
export async function runCrashScenario(scenario: CrashScenario): Promise<CrashReport> {
  const model = new AckedModel();
  const report: CrashReport = {
    verifiedPerRestart: [],
    deletionsPerRestart: [],
    totalAcks: 0,
    inFlightAtKills: 0,
  };
  const writers: Writer[] = [];
  let acksThisRound = 0;
  let onThreshold = () => {};
  let lastLog = '';
  for (const [roomId, clients] of Object.entries(ROOMS)) {
    for (const clientId of clients) {
      writers.push(
        new Writer(clientId, roomId, model, () => {
          acksThisRound++;
          onThreshold();
        }),
      );
    }
  }
  try {
    for (let round = 0; round <= scenario.killAfterAcks.length; round++) {
      const server = await ServerProcess.start(scenario.args);
      if (round > 0) {
        const counts = { verified: 0, deletions: 0 };
        const failures = await verifyAcked(server.port, model, counts).catch((error: unknown) => {
          throw new Error(
            `${scenario.name}: reading back after SIGKILL #${round} failed: ${String(error)}\n` +
              `--- restarted server log ---\n${server.log}\n--- server log (before restart) ---\n${lastLog}`,
          );
        });
        if (failures.length > 0) {
          throw new Error(
            `${scenario.name}: after SIGKILL #${round}, ${failures.length} acked operation(s) lost:\n` +
              `${failures.slice(0, 30).join('\n')}\n--- server log (before restart) ---\n${lastLog}`,
          );
        }
        report.verifiedPerRestart.push(counts.verified);
        report.deletionsPerRestart.push(counts.deletions);
      }
      const threshold = scenario.killAfterAcks[round];
      if (threshold === undefined) {
        server.killNow();
        await server.exited;
        break;
      }
      acksThisRound = 0;
      const killed = new Promise<void>((resolve) => {
        onThreshold = () => {
          if (acksThisRound < threshold) return;
          onThreshold = () => {};
          server.killNow();
          for (const writer of writers) writer.stop();
          resolve();
        };
      });
      const connected = await Promise.all(writers.map((writer) => writer.connect(server.port)));
      const dones = connected.map((writer) => writer.closed);
      for (const writer of writers) writer.go();
      // A writer failing before the kill (error frame, early close) fails the round.
      const endedFirst = Promise.all(dones).then(() => {
        throw new Error('writers ended before the kill');
      });
      endedFirst.catch(() => {});
      await Promise.race([killed, endedFirst]);
      await server.exited;
      await Promise.all(dones);
      lastLog = server.log;
    }
  } finally {
    for (const writer of writers) writer.terminate();
    killAllServers();
  }
  report.totalAcks = model.acks;
  report.inFlightAtKills = model.abandoned;
  return report;
}
