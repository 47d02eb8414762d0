import { afterEach } from 'vitest';
import { RoomManager, type RoomManagerOptions, silentLogger } from '../../src/index.js';

const managers: RoomManager[] = [];

// Every manager a test makes is closed after it, so no room or timer outlives its test.
afterEach(async () => {
  await Promise.allSettled(managers.splice(0).map((manager) => manager.closeAll()));
});

/** A RoomManager with a silent logger, closed automatically after the current test. */
export function newManager(options: RoomManagerOptions = {}): RoomManager {
  const manager = new RoomManager({ logger: silentLogger, ...options });
  managers.push(manager);
  return manager;
}
