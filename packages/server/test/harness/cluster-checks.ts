/**
 * The checks every cluster failure test ends with (SPEC K2-K6): no clock acked
 * twice or with two patches, no `resync`, every acked write on every live node
 * and in PostgreSQL, and the app clients converged on what PostgreSQL holds.
 */
import { expect } from 'vitest';
import type { AppClients } from './cluster-clients.js';
import type { TestCluster } from './cluster-nodes.js';
import { type Ledger, roomOn } from './cluster-writers.js';
import type { Patch } from './server-process.js';

/** The live keys of a document (deleted keys left out). */
export function liveKeys(doc: Patch): Patch {
  return Object.fromEntries(Object.entries(doc).filter(([, component]) => component._exists !== false));
}

/** The room's live document as PostgreSQL holds it. */
export async function storedDocument(cluster: TestCluster, roomId: string): Promise<Patch> {
  const rows = await cluster.db.query<{ key: string; data: string }>(
    'SELECT key, data FROM canvas_store_components WHERE room_id = $1',
    [roomId],
  );
  return liveKeys(Object.fromEntries(rows.map((row) => [row.key, JSON.parse(row.data) as Patch[string]])));
}

/**
 * Asserts that nothing acked was lost or acked twice and that the clients
 * converged. `read` reads the room on the live node at an index (a fresh
 * reader by default). The published client may lose a write of its own that
 * was in flight when its socket closed (docs/compatibility.md,
 * test/interop/published-unacked-write.test.ts): that is counted and printed,
 * not failed; every other client must converge exactly.
 */
export async function expectNothingLost(
  cluster: TestCluster,
  ledger: Ledger,
  apps: AppClients,
  roomId: string,
  read: (index: number) => Promise<Patch> = (index) => roomOn(cluster, index, roomId),
): Promise<void> {
  expect(ledger.reusedClocks, 'clock values acked twice').toEqual([]);
  expect(ledger.conflicts, 'clocks with two different patches').toEqual([]);
  expect(ledger.resyncs, 'resync frames (the room clock went backwards)').toBe(0);
  // Every live node serves the room with every acked write.
  for (let i = 0; i < cluster.live().length; i++) {
    expect(ledger.missingFrom(await read(i)), `on ${cluster.pick(i).id}`).toEqual([]);
  }
  const final = await apps.converged(['published']);
  if (final.ownLost.length > 0)
    console.info(`published client's own writes lost: ${final.ownLost.join(', ')}`);
  expect(final.ownLost.filter((entry) => !entry.startsWith('published-'))).toEqual([]);
  // The room is what PostgreSQL holds.
  const stored = await storedDocument(cluster, roomId);
  expect(ledger.missingFrom(stored), 'acked writes missing from PostgreSQL').toEqual([]);
  expect(liveKeys(final.doc)).toEqual(stored);
}
