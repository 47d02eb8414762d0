/**
 * Worker thread entry: checkpoints one SQLite database's WAL through its own
 * connection, so that the connection committing on the main thread never
 * copies pages into the database file or fsyncs it.
 *
 * Every `intervalMs` it runs a PASSIVE checkpoint, which never blocks the
 * committing connection. SQLite restarts the WAL from its beginning only when
 * a write starts with every frame checkpointed; under a steady stream of
 * commits some always land during the checkpoint, and the WAL would grow
 * without bound. So when the WAL has grown past `catchUpFrames` frames without
 * restarting, the worker asks the main thread to hold commits (`pause`),
 * checkpoints the few frames written meanwhile, and lets them go (`resume`):
 * the next commit restarts the WAL.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the main thread passes to the worker. */
export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  catchUpFrames: number;
}

/** Messages from the worker. */
export type CheckpointWorkerRequest = { type: 'pause' } | { type: 'resume' };

/** Messages to the worker: `paused` answers `pause`; `stop` checkpoints one last time and exits. */
export type CheckpointWorkerCommand = { type: 'paused' } | { type: 'stop' };

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

if (!parentPort) throw new Error('sqlite-checkpoint-worker must run in a worker thread');
const port: MessagePort = parentPort;
const { path, intervalMs, catchUpFrames } = workerData as CheckpointWorkerData;
const db = new Database(path);
let stopped = false;
let onPaused: (() => void) | null = null;
/** WAL frames at the previous tick: unchanged means no commits since, and nothing to restart for. */
let previousLog = 0;

function checkpoint(): CheckpointResult {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
  return result ?? { busy: 0, log: 0, checkpointed: 0 };
}

async function tick(): Promise<void> {
  // `log` is the WAL's length in frames when the checkpoint started; it only shrinks when the WAL restarts.
  const { log } = checkpoint();
  const grown = log !== previousLog;
  previousLog = log;
  if (log <= catchUpFrames || !grown || stopped) return;
  await new Promise<void>((resolve) => {
    onPaused = resolve;
    port.postMessage({ type: 'pause' } satisfies CheckpointWorkerRequest);
  });
  if (stopped) return;
  try {
    checkpoint();
  } finally {
    port.postMessage({ type: 'resume' } satisfies CheckpointWorkerRequest);
  }
}

let timer = setTimeout(function loop() {
  tick().then(() => {
    if (!stopped) timer = setTimeout(loop, intervalMs);
  });
}, intervalMs);

port.on('message', (command: CheckpointWorkerCommand) => {
  if (command.type === 'paused') {
    onPaused?.();
    onPaused = null;
    return;
  }
  stopped = true;
  clearTimeout(timer);
  checkpoint();
  // When the main connection is closed already, this is the last one: SQLite
  // checkpoints whatever is left and deletes the WAL file.
  db.close();
  port.close();
});
