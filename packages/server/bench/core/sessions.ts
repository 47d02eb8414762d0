/** Sessions on a benchmark room and the live document they leave behind. */
import { type BenchRoom, countingSocket, noopSocket } from '../lib/impls.js';

/** Connects a writer session (counting what it receives) and a viewer receiving every broadcast. */
export function connectWriter(room: BenchRoom): {
  writer: string;
  writerSocket: ReturnType<typeof countingSocket>;
} {
  const writerSocket = countingSocket();
  const writer = room.handleSocketConnect({
    socket: writerSocket,
    clientId: 'writer',
    permissions: 'readwrite',
  });
  // A second session receives every broadcast (into a no-op socket).
  room.handleSocketConnect({ socket: noopSocket(), clientId: 'viewer', permissions: 'readwrite' });
  return { writer, writerSocket };
}

/** The live components of a snapshot, as canonical JSON per key (tombstones dropped). */
export function liveState(room: BenchRoom): { live: Map<string, string>; tombstones: number } {
  const live = new Map<string, string>();
  let tombstones = 0;
  const { state } = room.getSnapshot();
  for (const key of Object.keys(state)) {
    const component = state[key] as Record<string, unknown>;
    if (component._exists === false) {
      tombstones++;
      continue;
    }
    const fields = Object.keys(component).sort();
    live.set(key, JSON.stringify(fields.map((field) => [field, component[field]])));
  }
  return { live, tombstones };
}

/** Whether two live states hold the same components with the same fields. */
export function sameLiveState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}
