// Preloaded into the server process (`node --import`) by the shutdown tests: after
// SIGUSR2, every FileHandle write/sync fails with EIO, as a dying disk does, or with
// FAILING_DISK=hang never answers, as a stalled one does. Before it, files behave
// normally. `--storage file` writes through FileHandle.
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

let failing = false;
process.on('SIGUSR2', () => {
  failing = true;
  // Tells the test the disk is now broken: a signal and socket data race in the event
  // loop, so a write sent right after the signal could otherwise still be stored.
  if (process.env.FAILING_DISK_ARMED) writeFileSync(process.env.FAILING_DISK_ARMED, 'armed');
});

const probe = await open('/dev/null', 'r');
const FileHandle = Object.getPrototypeOf(probe);
await probe.close();

for (const method of ['write', 'writeFile', 'datasync', 'sync']) {
  const original = FileHandle[method];
  FileHandle[method] = function failingWhenAsked(...args) {
    if (failing && process.env.FAILING_DISK === 'hang') return new Promise(() => {});
    if (failing)
      return Promise.reject(Object.assign(new Error(`EIO: i/o error, ${method}`), { code: 'EIO' }));
    return original.apply(this, args);
  };
}
