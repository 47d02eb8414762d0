/**
 * Peers that vanish without a trace, as a laptop lid closing or a network
 * partition leaves them: a separate process opens many WebSocket sessions
 * (several rooms), syncs each, sets a cursor and writes a note, answers
 * pings while it runs, and reports ready. The test then SIGSTOPs it: its TCP
 * connections stay open (the kernel still acknowledges bytes), but nothing is
 * read, no pong is sent and no close frame ever comes, so only the server's
 * heartbeat can find out. SIGKILL ends it afterwards.
 *
 * Run directly (`node --import tsx frozen-peer.ts '<json PeerPlan>'`) it is
 * the peer process, which opens its sessions when a line arrives on stdin;
 * imported, it gives the test {@link PeerProcess} and {@link startPeerProcess}.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type RawData, WebSocket } from 'ws';

/** What the peer process opens. */
interface PeerPlan {
  /** `ws://127.0.0.1:<port>` of the server. */
  origin: string;
  peers: { roomId: string; clientId: string }[];
  /** Size of each peer's cursor label (ephemeral state the server must forget). */
  cursorBytes: number;
  /** Size of each peer's note (document state of the room). */
  noteBytes: number;
}

const SCRIPT = fileURLToPath(import.meta.url);
/** Generous bound for the peer process to start, open and sync everything (a loaded machine). */
const READY_TIMEOUT_MS = 60_000;

const running = new Set<ChildProcess>();

/**
 * A peer process: spawned (it loads and waits), then told to open its
 * sessions, then frozen, then killed. Spawning ahead of time keeps the
 * process start-up out of the measured rounds.
 */
export class PeerProcess {
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    running.add(child);
    this.exited = new Promise<void>((resolve) => {
      child.once('close', () => {
        running.delete(child);
        resolve();
      });
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += String(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += String(chunk);
    });
  }

  /** Starts the process; it opens nothing until {@link open}. */
  static spawn(plan: PeerPlan): PeerProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(plan)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new PeerProcess(child);
  }

  /** Opens every session and resolves once each is synced and its write acked. */
  async open(): Promise<void> {
    this.child.stdin?.write('open\n');
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!this.stdout.includes('"ready"')) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`peer process not ready:\n${this.stderr}`));
      }, READY_TIMEOUT_MS);
      const onExit = () => {
        finish();
        reject(new Error(`peer process exited before ready:\n${this.stdout}\n${this.stderr}`));
      };
      const finish = () => {
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.off('close', onExit);
      };
      this.child.stdout?.on('data', check);
      this.child.once('close', onExit);
      check();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Freezes the process: its sockets stay open but go silent. */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  /** Kills the (possibly frozen) process and waits for its exit. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Spawns a peer process and opens its sessions; see {@link PeerProcess}. */
export async function startPeerProcess(plan: PeerPlan): Promise<PeerProcess> {
  const peer = PeerProcess.spawn(plan);
  await peer.open();
  return peer;
}

/** SIGKILLs every peer process this module started and waits for them (for `afterEach`). */
export async function killPeerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One session of the peer process: sync, cursor and note in one frame, wait for `synced` and the ack. */
function openPeer(plan: PeerPlan, roomId: string, clientId: string): Promise<WebSocket> {
  const query = new URLSearchParams({ roomId, clientId, token: 'frozen-peer' });
  const ws = new WebSocket(`${plan.origin}/?${query}`);
  return new Promise((resolve, reject) => {
    let synced = false;
    let acked = false;
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`${clientId} closed (${code}) before it was ready`)));
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 }));
      ws.send(
        JSON.stringify({
          type: 'patch',
          messageId: 'note',
          documentPatches: [{ [`${clientId}/Note`]: { _exists: true, text: 'n'.repeat(plan.noteBytes) } }],
          ephemeralPatches: [
            { [`${clientId}/Cursor`]: { _exists: true, x: 1, y: 2, label: 'c'.repeat(plan.cursorBytes) } },
          ],
        }),
      );
    });
    ws.on('message', (data: RawData) => {
      const frame = JSON.parse(String(data)) as { type?: string; messageId?: string };
      if (frame.type === 'synced') synced = true;
      if (frame.type === 'ack' && frame.messageId === 'note') acked = true;
      if (synced && acked) resolve(ws);
    });
  });
}

/** Resolves when the test writes a line to stdin (its go-ahead). */
function goAhead(): Promise<void> {
  return new Promise((resolve) => {
    let input = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      input += chunk;
      if (input.includes('\n')) {
        // Stop reading stdin so it does not keep the process busy; the sockets keep it alive.
        process.stdin.pause();
        resolve();
      }
    });
  });
}

async function main(plan: PeerPlan): Promise<void> {
  await goAhead();
  // Sequential opens per room keep the burst modest; rooms open in parallel.
  const byRoom = new Map<string, string[]>();
  for (const { roomId, clientId } of plan.peers)
    byRoom.set(roomId, [...(byRoom.get(roomId) ?? []), clientId]);
  await Promise.all(
    Array.from(byRoom, async ([roomId, clientIds]) => {
      for (const clientId of clientIds) await openPeer(plan, roomId, clientId);
    }),
  );
  process.stdout.write(`${JSON.stringify({ ready: plan.peers.length })}\n`);
  // The open sockets keep the process alive until the test freezes and kills it.
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(JSON.parse(process.argv[2] ?? '{}') as PeerPlan).catch((error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
