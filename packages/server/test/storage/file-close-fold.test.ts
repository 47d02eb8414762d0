/**
 * FileStorage answers `wantsSnapshot` without changing state; only the
 * `closingAfterFlush` command makes its `close()` fold the journal into the
 * snapshot (SPEC P2: the `.json` alone then holds the room).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStorage, type RoomSnapshot } from '../../src/index.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A storage over a fresh directory holding one committed batch in its journal. */
async function storageWithJournal(): Promise<{ dir: string; storage: FileStorage }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-close-fold-'));
  dirs.push(dir);
  const storage = new FileStorage({ dir, roomId: 'room' });
  await storage.load();
  await storage.commit({
    timestamp: 1,
    components: [{ key: 'e1/Shape', data: { _exists: true, x: 1 }, stamps: { _exists: 1, x: 1 } }],
  });
  return { dir, storage };
}

describe('[P2] FileStorage: wantsSnapshot is a query, closingAfterFlush the command', () => {
  it('[P2] asking wantsSnapshot("close") leaves the journal unfolded on close', async () => {
    const { dir, storage } = await storageWithJournal();
    expect(storage.wantsSnapshot('close')).toBe(false);
    await storage.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['room.journal']);
  });

  it('[P2] closingAfterFlush makes close fold the journal into the snapshot', async () => {
    const { dir, storage } = await storageWithJournal();
    storage.closingAfterFlush();
    await storage.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['room.history', 'room.json']);
    const snapshot = JSON.parse(fs.readFileSync(path.join(dir, 'room.json'), 'utf8')) as RoomSnapshot;
    expect(snapshot.state['e1/Shape']).toEqual({ _exists: true, x: 1 });
  });
});
