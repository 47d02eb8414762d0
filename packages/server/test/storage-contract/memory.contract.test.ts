import { MemoryStorage, type RoomSnapshot } from '../../src/index.js';
import { describeStorageContract } from './contract.js';

// MemoryStorage keeps nothing across processes: a "restart" reuses the same instance per room.
describeStorageContract(
  'MemoryStorage',
  () => {
    const storages = new Map<string, MemoryStorage>();
    const storageFor = (roomId: string): MemoryStorage => {
      let storage = storages.get(roomId);
      if (!storage) {
        storage = new MemoryStorage();
        storages.set(roomId, storage);
      }
      return storage;
    };
    return {
      storageFor,
      restart: async () => {},
      // A snapshot of the wrong shape: the room must refuse it rather than open empty.
      corrupt: (roomId) => storageFor(roomId).save({ timestamp: 'x', state: 7 } as unknown as RoomSnapshot),
      cleanup: async () => storages.clear(),
    };
  },
  { durable: false },
);
