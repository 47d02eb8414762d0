/**
 * Storage faults (issue 6; SPEC P2, P3, P4, B5, O4): one room's storage fails,
 * then hangs, for a while, under steady acked writes, in a real `ws` server
 * over a real SQLite file.
 *
 * - While its storage is down, the room acks nothing it could not store, keeps
 *   its sessions, and counts the failures; the other rooms keep acking.
 * - When the storage returns, the held acks go out and writing goes on.
 * - After an abrupt stop (no final save) a server started on the same file holds
 *   every acked write and deletion of every room.
 * - A room whose storage cannot load it refuses connections (4503) and opens
 *   with its data, never empty, once the storage is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../src/index.js';
import { TestServer } from '../harness/client-harness.js';
import { verifyAcked } from '../harness/crash/crash-harness.js';
import { AckedModel, readRoom, Writer } from '../harness/crash/wire-clients.js';
import { FaultyStorage, type StorageFault } from '../harness/faulty-storage.js';
import { recordFigures, scaled } from '../harness/reliability-harness.js';
import { cleanupAll, WireClient, waitUntil } from '../harness/server-harness.js';

const FAULTY = 'faulty-room';
const CALM = ['calm-room-a', 'calm-room-b'];
const WRITERS_PER_ROOM = 2;
const WINDOW = 8;
/** Fault rounds: each injects `fail` then `hang`. */
const ROUNDS = scaled(1, 6);
/** Acks the calm rooms must gain while the faulty room's storage is down. */
const CALM_PROGRESS = scaled(300, 1_500);
/** Generous bound for every poll: an event, never a timing assertion. */
const WAIT = 60_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cleanupAll();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'canvas-storage-faults-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real `ws` server over one SQLite file; `wrap` decides which rooms get a faulty storage. */
async function startServer(
  path: string,
  wrap: (
    roomId: string,
    storage: ReturnType<SqliteStorage['forRoom']>,
  ) => ReturnType<SqliteStorage['forRoom']>,
): Promise<{ server: TestServer; sqlite: SqliteStorage }> {
  const sqlite = new SqliteStorage({ path });
  // Writers stream as fast as acks come back: lift the per-session rate limit, which is not under test here.
  const server = new TestServer((roomId) => wrap(roomId, sqlite.forRoom(roomId)), {
    roomOptions: () => ({ limits: { framesPerSecond: 100_000 } }),
  });
  await server.start();
  cleanups.push(async () => {
    await server.stop().catch(() => {});
    await sqlite.close();
  });
  return { server, sqlite };
}

describe('[P4] [B5] storage faults', () => {
  it(
    '[P2] [P4] [B5] [O4] a room whose storage fails or hangs acks nothing unstored, recovers, loses nothing; other rooms go on',
    async () => {
      const path = join(tempDir(), 'rooms.db');
      const faulty = new Map<string, FaultyStorage>();
      const { server } = await startServer(path, (roomId, storage) => {
        if (roomId !== FAULTY) return storage;
        const wrapped = new FaultyStorage(storage);
        faulty.set(roomId, wrapped);
        return wrapped;
      });

      const model = new AckedModel();
      const acks = new Map<string, number>([FAULTY, ...CALM].map((roomId) => [roomId, 0]));
      const writers: Writer[] = [];
      for (const roomId of [FAULTY, ...CALM]) {
        for (let i = 0; i < WRITERS_PER_ROOM; i++) {
          writers.push(
            new Writer(
              `${roomId}-w${i}`,
              roomId,
              model,
              () => acks.set(roomId, (acks.get(roomId) ?? 0) + 1),
              WINDOW,
            ),
          );
        }
      }
      cleanups.push(() => {
        for (const writer of writers) writer.terminate();
      });
      const sessions = await Promise.all(writers.map((writer) => writer.connect(server.port)));
      // A writer that gets an error frame or loses its socket fails the test.
      let writerFailure: unknown;
      for (const session of sessions) session.closed.catch((error: unknown) => (writerFailure ??= error));
      for (const writer of writers) writer.go();

      const storage = faulty.get(FAULTY);
      if (!storage) throw new Error('the faulty room did not open');
      const ackCount = (roomId: string) => acks.get(roomId) ?? 0;
      const waitForAcks = (roomId: string, count: number, why: string) =>
        waitUntil(
          () => {
            if (writerFailure) throw writerFailure;
            return ackCount(roomId) >= count;
          },
          `${count} acks in ${roomId} (${why}; now ${ackCount(roomId)})`,
          WAIT,
        );

      const figures = { faultsInjected: 0, failedCalls: 0, hungCalls: 0, ackedWhileDown: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        for (const fault of ['fail', 'hang'] as StorageFault[]) {
          await waitForAcks(FAULTY, ackCount(FAULTY) + 50, 'before the fault');
          storage.set(fault);
          figures.faultsInjected++;
          const faultyAtFault = ackCount(FAULTY);
          const calmAtFault = CALM.map(ackCount);
          // The fault has bitten (a commit failed or is stuck) and the other rooms went on meanwhile.
          await waitUntil(
            () => (fault === 'fail' ? storage.counts.failed >= 3 : storage.waiting > 0),
            `the ${fault} fault to be hit`,
            WAIT,
          );
          for (const [i, roomId] of CALM.entries()) {
            await waitForAcks(roomId, (calmAtFault[i] as number) + CALM_PROGRESS, `while ${FAULTY} is down`);
          }
          const room = server.room(FAULTY);
          expect(room?.stats.heldFrames, 'frames waiting for the storage').toBeGreaterThan(0);
          if (fault === 'fail') expect(room?.stats.commitFailures).toBeGreaterThan(0);
          // At most the batch whose commit was already under way when the fault began is acked.
          const ackedWhileDown = ackCount(FAULTY) - faultyAtFault;
          figures.ackedWhileDown = Math.max(figures.ackedWhileDown, ackedWhileDown);
          expect(ackedWhileDown).toBeLessThanOrEqual(WRITERS_PER_ROOM * WINDOW);
          storage.set('none');
          await waitForAcks(
            FAULTY,
            faultyAtFault + WRITERS_PER_ROOM * WINDOW + 100,
            'after the storage returned',
          );
        }
      }
      figures.failedCalls = storage.counts.failed;
      figures.hungCalls = storage.counts.hung;

      // Abrupt stop: no final save; the writers' unacked operations are abandoned.
      for (const writer of writers) writer.terminate();
      const { server: restarted } = await startServer(path, (_roomId, roomStorage) => roomStorage);
      const counts = { verified: 0, deletions: 0 };
      const lost = await verifyAcked(restarted.port, model, counts);
      expect(lost, 'acked writes missing after the restart').toEqual([]);
      expect(counts.deletions).toBeGreaterThan(0);
      recordFigures('storage-faults', {
        rounds: ROUNDS,
        rooms: 1 + CALM.length,
        ...figures,
        ackedOperations: model.acks,
        ackedOperationsVerified: counts.verified,
        ackedWritesLost: lost.length,
      });
    },
    scaled(120_000, 600_000),
  );

  it('[P3] [P4] a room whose storage cannot load refuses sessions (4503), waits while it hangs, and opens with its data once back', async () => {
    const path = join(tempDir(), 'rooms.db');
    // Store a document first, with a healthy storage.
    {
      const { server } = await startServer(path, (_roomId, storage) => storage);
      const writer = await WireClient.join(server.port, { roomId: 'stored', clientId: 'w', token: 't' });
      await writer.write('m1', [
        { 'a/Shape': { _exists: true, x: 1 } },
        { 'b/Shape': { _exists: true, x: 2 } },
      ]);
      await writer.write('m2', [{ 'b/Shape': { _exists: false } }]);
      writer.close();
      await server.stop();
    }
    const expected = await (async () => {
      const { server } = await startServer(path, (_roomId, storage) => storage);
      const view = await readRoom(server.port, 'stored', 0);
      await server.stop();
      return Object.fromEntries(view.state);
    })();
    expect(expected).toEqual({ 'a/Shape': { _exists: true, x: 1 }, 'b/Shape': { _exists: false } });

    // The manager builds a storage on every attempt to open the room; each starts with this fault.
    let faultOnOpen: StorageFault = 'fail';
    let storage: FaultyStorage | undefined;
    const { server } = await startServer(path, (_roomId, inner) => {
      storage = new FaultyStorage(inner);
      storage.set(faultOnOpen);
      return storage;
    });
    const refused = await WireClient.refused(server.port, { roomId: 'stored', clientId: 'r1', token: 't' });
    expect(refused.closeCode).toBe(4503);
    expect(server.manager?.getExistingRoom('stored'), 'never opened empty').toBeUndefined();

    // A hanging load: the session waits, nothing is served from an empty room.
    faultOnOpen = 'hang';
    const waiting = await WireClient.open(server.port, { roomId: 'stored', clientId: 'r2', token: 't' });
    waiting.send({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
    await waitUntil(() => (storage?.waiting ?? 0) > 0, 'the load to hang', WAIT);
    expect(waiting.framesOf('synced')).toEqual([]);
    expect(waiting.framesOf('patch')).toEqual([]);
    storage?.set('none');
    await waiting.waitForFrame((f) => f.type === 'synced', 'synced once the storage answers');
    const view = await readRoom(server.port, 'stored', 0);
    expect(Object.fromEntries(view.state)).toEqual(expected);
    // And it keeps storing.
    await waiting.write('m3', [{ 'c/Shape': { _exists: true, x: 3 } }]);
  });
});
