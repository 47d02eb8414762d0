import { vi } from 'vitest';
import { WebSocket } from 'ws';
import { CanvasStoreClient, type CanvasStoreClientOptions } from '../../src/index.js';

/** Clients made by {@link makeClient}, closed by {@link closeClients}. */
const open = new Set<CanvasStoreClient>();

/** A client for Node (`ws`), with fast reconnects; closed after the test by {@link closeClients}. */
export function makeClient(
  url: string,
  roomId: string,
  options: Partial<CanvasStoreClientOptions> = {},
): CanvasStoreClient {
  const client = new CanvasStoreClient({
    url,
    roomId,
    token: 'test-token',
    WebSocket,
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    sendIntervalMs: 0,
    ...options,
  });
  open.add(client);
  return client;
}

/** Closes every client made by {@link makeClient}. */
export function closeClients(): void {
  for (const client of open) client.close();
  open.clear();
}

/** Polls `check` (which throws or returns false until true) with a generous timeout. */
export async function eventually(check: () => unknown, timeout = 20_000): Promise<void> {
  await vi.waitFor(
    () => {
      const result = check();
      if (result === false) throw new Error('condition not met yet');
    },
    { timeout, interval: 10 },
  );
}

/** The document as a plain object, for deep equality. */
export function documentOf(client: CanvasStoreClient): Record<string, unknown> {
  return Object.fromEntries(client.document);
}

/** The workspace's one seeded PRNG (mulberry32), shared with the server's tests and benchmarks. */
export { seededRandom } from '../../../server/test/helpers/seeded-random.js';
