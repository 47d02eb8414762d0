/**
 * The published client (`@woven-ecs/canvas-store` 2.x `WebsocketAdapter`) and
 * ours (`canvas-store-client`) against our server with presence coalescing
 * on (SPEC R1-R3): the values each client ends with, never timing.
 */
import { CanvasStoreClient } from 'canvas-store-client';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { FileStorage, type RoomManagerOptions } from '../../src/index.js';
import {
  type DocModel,
  plain,
  settle,
  type TestClient,
  TestServer,
  wireOf,
} from '../harness/client-harness.js';
import { ClientSuite } from '../harness/client-suite.js';

const ROOM = 'big-room';
const TEST_MS = 120_000;

const suite = ClientSuite.install();

/** Our server on FileStorage (acks and broadcasts wait for durability, O4), presence options as given. */
async function startServer(options: Partial<RoomManagerOptions> = {}): Promise<TestServer> {
  const dir = await suite.tempDir('canvas-store-big-rooms-');
  return suite.start(new TestServer((roomId) => new FileStorage({ dir, roomId }), options));
}

async function publishedClients(server: TestServer, ids: string[]): Promise<TestClient[]> {
  const made = ids.map((id) => suite.client(server, ROOM, id));
  for (const client of made) await client.connect();
  return made;
}

function cursorKey(clientId: string): string {
  return `cursor-${clientId}/Cursor`;
}

/** Moves every client's cursor `steps` times; returns each client's last position. */
function moveCursors(group: readonly TestClient[], steps: number): Record<string, DocModel[string]> {
  const last: Record<string, DocModel[string]> = {};
  for (const [i, client] of group.entries()) {
    client.ephemeral({ [cursorKey(client.clientId)]: { _exists: true, x: 0, y: i } });
  }
  for (let step = 1; step <= steps; step++) {
    for (const client of group) client.ephemeral({ [cursorKey(client.clientId)]: { x: step } });
    if (step === steps)
      for (const [i, c] of group.entries()) last[c.clientId] = { _exists: true, x: step, y: i };
  }
  return last;
}

function othersOf(self: string, cursors: Record<string, DocModel[string]>): DocModel {
  const seen: DocModel = {};
  for (const [id, cursor] of Object.entries(cursors)) if (id !== self) seen[cursorKey(id)] = cursor;
  return seen;
}

/** Every frame a client's current socket received. */
function framesOf(clientId: string): Array<Record<string, unknown>> {
  return wireOf(clientId)?.frames ?? [];
}

function lastCount(clientId: string): unknown {
  return framesOf(clientId)
    .filter((f) => f.type === 'clientCount')
    .at(-1)?.count;
}

describe('published clients on coalesced presence (R1, R2)', () => {
  it(
    '[R1][E1][O2][O3] every other client’s last cursor arrives, documents converge, and ephemeral-only updates come only in coalesced frames',
    async () => {
      const server = await startServer();
      const group = await publishedClients(server, ['a', 'b', 'c', 'd', 'e', 'f']);
      await settle(server, ROOM, group);
      const last = moveCursors(group, 25);
      // Document writes in between: not delayed, in clock order (settle checks O2/O3 on every socket).
      for (const [i, client] of group.entries())
        client.edit({ [`shape-${i}/Shape`]: { _exists: true, w: i } });
      const moreLast = moveCursors(group, 10);
      await settle(server, ROOM, group);
      for (const client of group) {
        expect(plain(client.remoteEphemeral)).toEqual(othersOf(client.clientId, { ...last, ...moreLast }));
      }
      const doc = plain(server.room(ROOM)?.getSnapshot().state ?? {});
      expect(Object.keys(doc)).toHaveLength(group.length);
      for (const client of group) expect(plain(client.doc)).toEqual(doc);
      for (const client of group) {
        const ephemeralOnly = framesOf(client.clientId).filter(
          (f) => f.type === 'patch' && f.documentPatches === undefined && f.ephemeralPatches !== undefined,
        );
        expect(ephemeralOnly.length).toBeGreaterThan(0);
        expect(ephemeralOnly.every((f) => f.clientId === '')).toBe(true);
      }
    },
    TEST_MS,
  );

  it(
    '[R1][E3] a departure’s deletion is never overtaken by an older value, and clientCount converges (R2)',
    async () => {
      const server = await startServer();
      const group = await publishedClients(server, ['a', 'b', 'c', 'd']);
      await settle(server, ROOM, group);
      const [leaver, ...stay] = group;
      if (!leaver) throw new Error('no clients');
      moveCursors(group, 15);
      leaver.disconnect();
      await settle(server, ROOM, group);
      const key = cursorKey(leaver.clientId);
      for (const client of stay) {
        expect(client.remoteEphemeral[key]).toBeUndefined();
        // The last thing this client heard of the key is its deletion.
        const mentions = framesOf(client.clientId)
          .flatMap((f) => (f.ephemeralPatches as DocModel[] | undefined) ?? [])
          .filter((patch) => key in patch)
          .map((patch) => patch[key]);
        expect(mentions.at(-1)).toEqual({ _exists: false });
        expect(lastCount(client.clientId)).toBe(stay.length);
      }
    },
    TEST_MS,
  );

  it(
    '[R1][S1] presenceTickMs 0: ephemeral-only updates arrive with their author’s clientId, one by one, and values still converge',
    async () => {
      const server = await startServer({ presenceTickMs: 0 });
      const group = await publishedClients(server, ['a', 'b', 'c']);
      await settle(server, ROOM, group);
      const last = moveCursors(group, 5);
      await settle(server, ROOM, group);
      for (const client of group) {
        expect(plain(client.remoteEphemeral)).toEqual(othersOf(client.clientId, last));
        const authors = framesOf(client.clientId)
          .filter(
            (f) => f.type === 'patch' && f.documentPatches === undefined && f.ephemeralPatches !== undefined,
          )
          .map((f) => f.clientId);
        // The presence snapshot at connect is server-made; every later update carries its author.
        expect(authors.filter((id) => id !== '').length).toBeGreaterThan(0);
        expect(authors.slice(1).every((id) => id !== '' && id !== client.clientId)).toBe(true);
        expect(lastCount(client.clientId)).toBe(group.length);
      }
    },
    TEST_MS,
  );
});

describe('our client on coalesced presence (R1, R2)', () => {
  async function eventually(check: () => void): Promise<void> {
    await vi.waitFor(check, { timeout: 20_000, interval: 10 });
  }

  it(
    '[R1][R2][E3] our clients see every other client’s latest presence, lose a departed one, and count the room right',
    async () => {
      // Our client is not affected by the published adapter's environment, but runs on plain `ws`.
      suite.restoreEnvironment();
      const server = await startServer();
      const ids = ['p', 'q', 'r', 's', 't'];
      const ours = ids.map((clientId) =>
        suite.closeAfter(
          new CanvasStoreClient({
            url: server.url,
            roomId: ROOM,
            clientId,
            token: 't',
            WebSocket,
            sendIntervalMs: 0,
          }),
        ),
      );
      await Promise.all(ours.map((client) => client.whenSynced()));
      for (let step = 1; step <= 20; step++) {
        for (const [i, client] of ours.entries()) client.setPresence({ cursor: [step, i], name: ids[i] });
      }
      await eventually(() => {
        for (const [i, client] of ours.entries()) {
          for (const [j, id] of ids.entries()) {
            if (j !== i) expect(client.presence.get(id)).toEqual({ cursor: [20, j], name: id });
          }
          expect(client.clientCount).toBe(ids.length);
        }
      });
      const [leaver, ...stay] = ours;
      leaver?.close();
      await eventually(() => {
        for (const client of stay) {
          expect(client.presence.has('p')).toBe(false);
          expect(client.clientCount).toBe(stay.length);
        }
      });
    },
    TEST_MS,
  );
});
