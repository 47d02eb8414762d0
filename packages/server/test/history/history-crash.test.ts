/**
 * SIGKILL and history (SPEC H1, P2): a child process writes through a real
 * Room and reports each stored clock; it is killed at a random moment. The
 * reopened storage must hold history exactly as it holds the document: an
 * entry for every clock up to the room clock (none missing, none beyond),
 * and the state at every acked clock equal to an independent replay.
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
  Room,
  SqliteStorage,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { crashWrite } from './crash-writes.js';

const WRITER = path.join(import.meta.dirname, 'crash-writer.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the writer until it reported `acks` stored clocks, then SIGKILLs it; returns the last acked clock. */
function writeThenKill(args: string[], acks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
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

const BACKENDS = [
  {
    name: 'SqliteStorage',
    args: (dir: string) => ['sqlite', path.join(dir, 'rooms.db')],
    open: (dir: string) => {
      const sqlite = new SqliteStorage({ path: path.join(dir, 'rooms.db') });
      return { storage: sqlite.forRoom('crash') as Storage, close: () => sqlite.close() };
    },
  },
  {
    name: 'FileStorage',
    args: (dir: string) => ['file', dir],
    open: (dir: string) => ({
      storage: new FileStorage({ dir, roomId: 'crash' }) as Storage,
      close: async () => {},
    }),
  },
];

describe('[H1][P2] history survives SIGKILL exactly as the document does', () => {
  for (const backend of BACKENDS) {
    it(`[H1][P2] ${backend.name}: after two kills, history has every clock up to the room clock and each state equals a replay`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-history-crash-'));
      dirs.push(dir);
      let acked = 0;
      for (const acks of [150, 90]) acked = await writeThenKill(backend.args(dir), acks);
      const { storage, close } = backend.open(dir);
      const room = new Room({ storage, logger: silentLogger });
      await room.load();
      try {
        const clock = room.getTimestamp();
        expect(clock).toBeGreaterThanOrEqual(acked);
        const clocks = (await allEntries(room)).map((entry) => entry.clock);
        expect(clocks).toEqual(Array.from({ length: clock }, (_, i) => clock - i));
        const reference = new ClockedDocument();
        for (let at = 1; at <= clock; at++) {
          reference.applyPatches([crashWrite(at)]);
          if (at % 10 !== 0 && at !== clock) continue;
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
    }, 120_000);
  }
});
