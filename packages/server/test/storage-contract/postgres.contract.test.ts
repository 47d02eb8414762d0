import { afterEach, describe, expect, it } from 'vitest';
import {
  PostgresStorage,
  Room,
  RoomLoadError,
  RoomManager,
  StorageCorruptError,
  silentLogger,
} from '../../src/index.js';
import {
  HOW_TO_RUN_POSTGRES,
  IN_CI,
  postgresProblem,
  TEST_PG_URL,
  withPostgres,
} from '../helpers/postgres.js';
import { connect } from '../helpers/room-harness.js';
import { describeStorageContract } from './contract.js';
import { acks, connectLogged, waitFor, write } from './contract-helpers.js';

const PG_URL = TEST_PG_URL;
const HOW_TO_RUN = HOW_TO_RUN_POSTGRES;
const unreachable = await postgresProblem();
if (unreachable !== null) {
  if (IN_CI) {
    describe('PostgresStorage storage contract', () => {
      it('[P2] PostgreSQL is reachable (required when CI is set)', () => {
        expect.fail(`${HOW_TO_RUN} (${unreachable})`);
      });
    });
  } else {
    console.warn(`Skipping the PostgresStorage contract: ${HOW_TO_RUN} (${unreachable})`);
  }
}

const withClient = withPostgres;

const uniquePrefix = () => `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}_`;

async function dropTables(prefix: string): Promise<void> {
  await withClient((client) =>
    client.query(`DROP TABLE IF EXISTS ${prefix}components, ${prefix}rooms, ${prefix}room_epochs`),
  );
}

async function tablesOf(prefix: string): Promise<string[]> {
  const result = await withClient((client) =>
    client.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1) ORDER BY tablename',
      [prefix],
    ),
  );
  return result.rows.map((row) => row.tablename);
}

describe.skipIf(unreachable !== null)('PostgreSQL backend', () => {
  describeStorageContract(
    'PostgresStorage',
    () => {
      const tablePrefix = uniquePrefix();
      const make = () => new PostgresStorage({ connectionString: PG_URL, tablePrefix, pool: { max: 4 } });
      let storage = make();
      return {
        storageFor: (roomId) => storage.forRoom(roomId),
        restart: async () => {
          await storage.close();
          storage = make();
        },
        corrupt: (roomId) =>
          withClient(async (client) => {
            await client.query(
              `INSERT INTO ${tablePrefix}components (room_id, key, data, stamps) VALUES ($1, 'k', '{"_exists": tr', '{}')
               ON CONFLICT (room_id, key) DO UPDATE SET data = excluded.data`,
              [roomId],
            );
          }),
        cleanup: async () => {
          await storage.close();
          await dropTables(tablePrefix);
        },
      };
    },
    { durable: true },
  );

  describe('PostgresStorage specifics', () => {
    const prefixes: string[] = [];
    const storages: PostgresStorage[] = [];
    const rooms: Room[] = [];
    afterEach(async () => {
      await Promise.allSettled(rooms.splice(0).map((room) => room.close({ flush: false })));
      await Promise.allSettled(storages.splice(0).map((storage) => storage.close()));
      for (const prefix of prefixes.splice(0)) await dropTables(prefix);
    });

    function storage(): { postgres: PostgresStorage; prefix: string } {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const postgres = new PostgresStorage({ connectionString: PG_URL, tablePrefix: prefix });
      storages.push(postgres);
      return { postgres, prefix };
    }

    async function roomOver(postgres: PostgresStorage, roomId: string): Promise<Room> {
      const room = new Room({ storage: postgres.forRoom(roomId), logger: silentLogger, roomId });
      rooms.push(room);
      await room.load();
      return room;
    }

    it('[P1] the tables are created on first use, named with the tablePrefix', async () => {
      const { postgres, prefix } = storage();
      expect(await tablesOf(prefix)).toEqual([]);
      expect(await postgres.forRoom('first').load()).toBeNull();
      expect(await tablesOf(prefix)).toEqual([
        `${prefix}components`,
        `${prefix}room_epochs`,
        `${prefix}rooms`,
      ]);
    });

    it('[P1] listRooms lists exactly the rooms with stored data; deleteRoom removes one room and nothing else', async () => {
      const { postgres } = storage();
      expect(await postgres.listRooms()).toEqual([]);
      for (const id of ['b', 'a', 'c']) {
        const room = await roomOver(postgres, id);
        write(connect(room), { k: { _exists: true, id } });
        await room.close();
      }
      await (await roomOver(postgres, 'opened-only')).close();
      expect(await postgres.listRooms()).toEqual(['a', 'b', 'c']);

      await postgres.deleteRoom('b');
      expect(await postgres.listRooms()).toEqual(['a', 'c']);
      expect(await postgres.forRoom('b').load()).toBeNull();
      expect((await roomOver(postgres, 'b')).getSnapshot()).toEqual({
        timestamp: 0,
        state: {},
        timestamps: {},
      });
      expect((await postgres.forRoom('a').load())?.state).toEqual({ k: { _exists: true, id: 'a' } });
      expect((await postgres.forRoom('c').load())?.state).toEqual({ k: { _exists: true, id: 'c' } });
      await postgres.deleteRoom('never-existed');
      expect(await postgres.listRooms()).toEqual(['a', 'c']);
    });

    it('[P1] isHealthy is true while connected and false after close', async () => {
      const { postgres } = storage();
      expect(await postgres.isHealthy()).toBe(true);
      await postgres.close();
      expect(await postgres.isHealthy()).toBe(false);
    });

    it('[P2] when the ack arrives the write is already committed, visible to another connection', async () => {
      const { postgres, prefix } = storage();
      const room = await roomOver(postgres, 'visible');
      const reads: Array<Promise<unknown>> = [];
      const a = connectLogged(room, 'a', [], (message) => {
        if (message.type !== 'ack') return;
        reads.push(
          withClient(async (client) => {
            const result = await client.query(
              `SELECT data, stamps FROM ${prefix}components WHERE room_id = 'visible' AND key = 'k'`,
            );
            return result.rows;
          }),
        );
      });
      write(a, { k: { _exists: true, v: 1 } });
      await waitFor(() => acks(a).length === 1, 'the ack');
      expect(await reads[0]).toEqual([{ data: '{"_exists":true,"v":1}', stamps: '{"_exists":1,"v":1}' }]);
    });

    it('[P3] an unreachable database makes the room fail to open with RoomLoadError', async () => {
      const down = new PostgresStorage({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
        tablePrefix: uniquePrefix(),
        pool: { connectionTimeoutMillis: 2_000 },
      });
      storages.push(down);
      expect(await down.isHealthy()).toBe(false);
      const manager = new RoomManager({ logger: silentLogger, createStorage: (id) => down.forRoom(id) });
      await expect(manager.getRoom('r')).rejects.toBeInstanceOf(RoomLoadError);
      expect(manager.getExistingRoom('r')).toBeUndefined();
      await manager.closeAll();
    });

    it('[P3] a row whose stamps are not JSON, written via pg, makes load reject; the room never opens empty', async () => {
      const { postgres, prefix } = storage();
      const room = await roomOver(postgres, 'bad-stamps');
      write(connect(room), { k: { _exists: true }, j: { _exists: true } });
      await room.close();
      await withClient((client) =>
        client.query(
          `UPDATE ${prefix}components SET stamps = 'nope' WHERE room_id = 'bad-stamps' AND key = 'j'`,
        ),
      );
      await expect(postgres.forRoom('bad-stamps').load()).rejects.toBeInstanceOf(StorageCorruptError);
      await expect(roomOver(postgres, 'bad-stamps')).rejects.toBeInstanceOf(StorageCorruptError);
    });
  });
});
