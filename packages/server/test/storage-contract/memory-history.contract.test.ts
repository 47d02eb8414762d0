import { MemoryHistoryStorage, type RoomSnapshot } from '../../src/index.js';
import { describeStorageContract } from './contract.js';

// Nothing survives the process: a "restart" reuses the same instance per room.
describeStorageContract(
  'MemoryHistoryStorage',
  () => {
    const storages = new Map<string, MemoryHistoryStorage>();
    const storageFor = (roomId: string): MemoryHistoryStorage => {
      let storage = storages.get(roomId);
      if (!storage) {
        storage = new MemoryHistoryStorage();
        storages.set(roomId, storage);
      }
      return storage;
    };
    return {
      storageFor,
      historyStorageFor: (roomId, options) => {
        const storage = new MemoryHistoryStorage(options);
        storages.set(roomId, storage);
        return storage;
      },
      restart: async () => {},
      // A snapshot of the wrong shape: the room must refuse it rather than open empty.
      corrupt: (roomId) => storageFor(roomId).save({ timestamp: 'x', state: 7 } as unknown as RoomSnapshot),
      cleanup: async () => storages.clear(),
    };
  },
  { durable: true, history: true },
);
