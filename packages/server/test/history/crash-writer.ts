/**
 * Child process of history-crash.test.ts: opens one room over the storage
 * named by argv (`sqlite <file>`, `file <dir>` or `postgres <url> <table
 * prefix>`) and writes the deterministic write `i` (see {@link crashWrite})
 * one at a time, printing `acked <clock>` once each is stored, until it is
 * killed. `CRASH_HISTORY_MAX_BYTES` sets the history byte bound (SPEC H3).
 */
import {
  FileStorage,
  type HistoryRetention,
  PostgresStorage,
  Room,
  SqliteStorage,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { crashWrite } from './crash-writes.js';

const [kind, path, prefix] = process.argv.slice(2);
if (!path) throw new Error('usage: crash-writer.ts sqlite|file|postgres <path or url> [table prefix]');
const maxBytes = process.env.CRASH_HISTORY_MAX_BYTES;
const history: Partial<HistoryRetention> = maxBytes ? { maxBytes: Number(maxBytes) } : {};
function open(): Storage {
  switch (kind) {
    case 'sqlite':
      return new SqliteStorage({ path: path as string, history }).forRoom('crash');
    case 'postgres':
      return new PostgresStorage({ connectionString: path, tablePrefix: prefix, history }).forRoom('crash');
    default:
      return new FileStorage({ dir: path as string, roomId: 'crash', compactAfterBytes: 4096, history });
  }
}
const room = new Room({ storage: open(), logger: silentLogger });
await room.load();
for (let clock = room.getTimestamp() + 1; ; clock++) {
  room.applyServerPatch([crashWrite(clock)]);
  await room.flush();
  process.stdout.write(`acked ${clock}\n`);
}
