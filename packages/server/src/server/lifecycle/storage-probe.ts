import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { reasonOf, StartupError } from './startup-error.js';

/**
 * The data directory is probed the way storage will use it: create a file,
 * write, fsync, read it back, remove it. A directory that fails this must stop
 * the server at startup (and turn `/readyz` to 503 later), never let it accept
 * writes it cannot store.
 */
const PROBE_TEXT = 'canvas-store-server storage probe\n';

let probes = 0;

/** A file name of its own for each probe: concurrent `/readyz` requests must not share one. */
function probeFile(dir: string): string {
  probes += 1;
  return join(dir, `.storage-probe-${process.pid}-${probes}`);
}

/** The sentence for a data directory that failed the probe. */
function unwritable(dir: string, error: unknown): StartupError {
  return new StartupError(
    `cannot store data in ${resolve(dir)} (set by --data-dir or CANVAS_DATA_DIR): ${reasonOf(error)}; make that directory writable by the user running the server, or point --data-dir at one that is`,
    { cause: error },
  );
}

/**
 * Creates `dir` if needed and probes it synchronously (startup only).
 *
 * @throws {@link StartupError} naming the path and what to do.
 */
export function probeDataDirSync(dir: string): void {
  const file = probeFile(dir);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, PROBE_TEXT);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (readFileSync(file, 'utf8') !== PROBE_TEXT) throw new Error('what was written did not read back');
    rmSync(file, { force: true });
  } catch (error) {
    throw unwritable(dir, error);
  }
}

/** The same probe without blocking the event loop; resolves false when `dir` cannot store data. */
export async function dataDirWorks(dir: string): Promise<boolean> {
  const file = probeFile(dir);
  try {
    const handle = await open(file, 'w');
    try {
      await handle.writeFile(PROBE_TEXT);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const ok = (await readFile(file, 'utf8')) === PROBE_TEXT;
    await rm(file, { force: true });
    return ok;
  } catch {
    return false;
  }
}
