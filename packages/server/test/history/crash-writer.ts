/**
 * Child process of history-crash.test.ts: opens one room over the storage
 * named by argv (`sqlite <file>` or `file <dir>`) and writes the
 * deterministic write `i` (see {@link crashWrite}) one at a time, printing
 * `acked <clock>` once each is stored, until it is killed.
 */
import { FileStorage, Room, SqliteStorage, type Storage, silentLogger } from '../../src/index.js';
import { crashWrite } from './crash-writes.js';

const [kind, path] = process.argv.slice(2);
if (!path) throw new Error('usage: crash-writer.ts sqlite|file <path>');
const storage: Storage =
  kind === 'sqlite'
    ? new SqliteStorage({ path }).forRoom('crash')
    : new FileStorage({ dir: path, roomId: 'crash', compactAfterBytes: 4096 });
const room = new Room({ storage, logger: silentLogger });
await room.load();
for (let clock = room.getTimestamp() + 1; ; clock++) {
  room.applyServerPatch([crashWrite(clock)]);
  await room.flush();
  process.stdout.write(`acked ${clock}\n`);
}
