/**
 * SIGKILL and history (SPEC H1, H3, P2): a child process writes through a
 * real Room and reports each stored clock; it is killed at a random moment.
 * The reopened storage must hold history exactly as it holds the document:
 * an entry for every clock from the horizon to the room clock (none missing,
 * none beyond), and the state at every acked clock inside it equal to an
 * independent replay. With the default retention the horizon is 0; with a
 * small byte bound the kill may also land between a commit and its
 * compaction, and the reopened history must still be whole from its horizon.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClockedDocument,
  FileStorage,
  type HistoryEntry,
  PostgresStorage,
  Room,
  SqliteStorage,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { dropStorageTables, IN_CI, postgresProblem, TEST_PG_URL } from '../helpers/postgres.js';
import { crashWrite } from './crash-writes.js';

const pgProblem = await postgresProblem();
if (pgProblem !== null && !IN_CI) console.warn(`Skipping the PostgreSQL SIGKILL history test: ${pgProblem}`);
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await dropStorageTables(prefix);
});

const WRITER = path.join(import.meta.dirname, 'crash-writer.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the writer until it reported `acks` stored clocks, then SIGKILLs it; returns the last acked clock. */
function writeThenKill(args: string[], acks: number, maxBytes: number | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (maxBytes === undefined) delete env.CRASH_HISTORY_MAX_BYTES;
    else env.CRASH_HISTORY_MAX_BYTES = String(maxBytes);
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let last = 0;
    let seen = 0;
    let stderr = '';
    let buffered = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += String(chunk);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += String(chunk);
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        last = Number(line.split(' ')[1]);
        if (++seen === acks) child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`writer exited without being killed: ${stderr}`));
    });
  });
}

async function allEntries(room: Room): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await room.listHistory(before === undefined ? { limit: 500 } : { before, limit: 500 });
    out.push(...page.entries);
    if (page.nextBefore === null) return out;
    before = page.nextBefore;
  }
}

interface CrashBackend {
  name: string;
  /** Skipped (outside CI) when its server is not reachable. */
  unavailable?: boolean;
  /** The writer's arguments for data under `dir` (`id` names a per-test database table prefix). */
  args(dir: string, id: string): string[];
  open(dir: string, id: string): { storage: Storage; close: () => Promise<void> | void };
}

const BACKENDS: CrashBackend[] = [
  {
    name: 'SqliteStorage',
    args: (dir) => ['sqlite', path.join(dir, 'rooms.db')],
    open: (dir) => {
      const sqlite = new SqliteStorage({ path: path.join(dir, 'rooms.db') });
      return { storage: sqlite.forRoom('crash') as Storage, close: () => sqlite.close() };
    },
  },
  {
    name: 'FileStorage',
    args: (dir) => ['file', dir],
    open: (dir) => ({
      storage: new FileStorage({ dir, roomId: 'crash' }) as Storage,
      close: async () => {},
    }),
  },
  {
    name: 'PostgresStorage',
    unavailable: pgProblem !== null && !IN_CI,
    args: (_dir, id) => ['postgres', TEST_PG_URL, id],
    open: (_dir, id) => {
      const postgres = new PostgresStorage({ connectionString: TEST_PG_URL, tablePrefix: id });
      return { storage: postgres.forRoom('crash') as Storage, close: () => postgres.close() };
    },
  },
];

/** Every retention run against each backend: the defaults (nothing compacted), and a small byte bound. */
const RETENTIONS = [
  { name: 'default retention', maxBytes: undefined },
  { name: 'a 4 KiB byte bound', maxBytes: 4096 },
];

describe('[H1][P2] history survives SIGKILL exactly as the document does', () => {
  for (const backend of BACKENDS) {
    for (const retention of RETENTIONS) {
      it.skipIf(backend.unavailable)(
        `[H1][H3][P2] ${backend.name}, ${retention.name}: after two kills, history has every clock from the horizon to the room clock and each state equals a replay`,
        async () => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-history-crash-'));
          dirs.push(dir);
          const id = `crash_${process.pid}_${Math.random().toString(36).slice(2, 10)}_`;
          prefixes.push(id);
          let acked = 0;
          for (const acks of [150, 90])
            acked = await writeThenKill(backend.args(dir, id), acks, retention.maxBytes);
          const { storage, close } = backend.open(dir, id);
          const room = new Room({ storage, logger: silentLogger });
          await room.load();
          try {
            const clock = room.getTimestamp();
            expect(clock).toBeGreaterThanOrEqual(acked);
            const horizon = await room.historyHorizon();
            if (retention.maxBytes === undefined) expect(horizon).toBe(0);
            else expect(horizon).toBeGreaterThan(0);
            const clocks = (await allEntries(room)).map((entry) => entry.clock);
            expect(clocks).toEqual(Array.from({ length: clock - horizon }, (_, i) => clock - i));
            const reference = new ClockedDocument();
            for (let at = 1; at <= clock; at++) {
              reference.applyPatches([crashWrite(at)]);
              if (at < horizon || (at % 10 !== 0 && at !== clock && at !== horizon)) continue;
              const past = await room.readAt(at);
              const replayed = ClockedDocument.fromComponents(past.timestamp, past.components);
              expect(replayed.toSnapshot({ includeTombstones: false }), `clock ${at}`).toEqual(
                reference.toSnapshot({ includeTombstones: false }),
              );
            }
          } finally {
            await room.close();
            await close();
          }
        },
        120_000,
      );
    }
  }
});
