/**
 * Reading a room back for the process fuzz run: its document in a canonical
 * form, well-formedness checks, known fills, and the server's log problems.
 */
import { expect } from 'vitest';
import type { Patch, ServerProcess } from '../server-process.js';
import { FORBIDDEN } from './fuzz-basics.js';
import { where } from './fuzz-run.js';
import { fillFrames } from './valid-frames.js';

export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = Object.create(null);
    for (const name of Object.keys(v).sort()) {
      Object.defineProperty(sorted, name, {
        value: (v as Record<string, unknown>)[name],
        enumerable: true,
      });
    }
    return sorted;
  });
}

/** A room as a fresh reader sees it: the reconnect reply from 0 (SPEC D7), as received. */
export interface RoomRead {
  /** The reply's `documentPatches`, parsed as sent (own `__proto__` keys would survive). */
  patches: Patch[];
  /** The clock of `synced`. */
  clock: number;
}

let readers = 0;
export async function readRoom(server: ServerProcess, roomId: string): Promise<RoomRead> {
  const reader = await server.connect(roomId, `reader-${readers++}`);
  const { reply, synced } = await reader.sync(0);
  reader.close();
  const patches = (reply?.documentPatches as Patch[] | undefined) ?? [];
  return { patches, clock: synced.timestamp as number };
}

/** The read's document as one object without `omit` (the reply from 0 is one patch). */
export function documentWithout(read: RoomRead, omit: string): string {
  const merged: Record<string, unknown> = {};
  for (const patch of read.patches) {
    for (const [key, value] of Object.entries(patch)) {
      if (key !== omit) Object.defineProperty(merged, key, { value, enumerable: true, writable: true });
    }
  }
  return JSON.stringify(merged);
}

/**
 * What is wrong with a stored document (SPEC B2): names that are forbidden,
 * unstorable or too long, components that are not objects, `_exists` that is
 * not a boolean, buffer deltas stored as objects, nesting past the limit.
 */
export function wellFormedProblems(read: RoomRead): string[] {
  const problems: string[] = [];
  const badName = (name: string) =>
    (FORBIDDEN as readonly string[]).includes(name) ||
    name.includes('\u0000') ||
    !name.isWellFormed() ||
    name.length > 512;
  for (const patch of read.patches) {
    for (const key of Object.keys(patch)) {
      if (badName(key)) problems.push(`key ${JSON.stringify(key).slice(0, 80)}`);
      const component: unknown = patch[key];
      if (typeof component !== 'object' || component === null || Array.isArray(component)) {
        problems.push(`component ${key} is ${JSON.stringify(component)?.slice(0, 80)}`);
        continue;
      }
      for (const [field, value] of Object.entries(component)) {
        if (badName(field)) problems.push(`field ${key}.${JSON.stringify(field).slice(0, 80)}`);
        if (field === '_exists' && typeof value !== 'boolean') problems.push(`${key}._exists is ${value}`);
        if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__buf')) {
          problems.push(`${key}.${field} is a buffer delta stored as an object`);
        }
        const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
        while (stack.length > 0) {
          const { value: node, depth } = stack.pop() as { value: unknown; depth: number };
          if (typeof node !== 'object' || node === null) continue;
          if (depth > 32) problems.push(`${key}.${field} is nested deeper than 32`);
          for (const name of Array.isArray(node) ? [] : Object.keys(node)) {
            if ((FORBIDDEN as readonly string[]).includes(name))
              problems.push(`${key}.${field} holds "${name}"`);
          }
          for (const child of Object.values(node)) stack.push({ value: child, depth: depth + 1 });
        }
      }
    }
  }
  return problems;
}

/**
 * SPEC O2/O3 as one session observes them: the clocks it is told never go
 * back, and a broadcast of another client's write is always newer than
 * everything it already knows (acks, replies, synced, earlier broadcasts).
 */
/** Fills a room with known writes (every one acked) and leaves. */
export async function fillRoom(server: ServerProcess, roomId: string, seed: number): Promise<void> {
  const writer = await server.connect(roomId, `filler-${roomId}`);
  await writer.sync(0);
  for (const patches of fillFrames(seed, 30)) {
    const from = writer.frames.length;
    const messageId = writer.sendPatch(patches as Patch[]);
    const ack = await writer.waitForFrame(
      `fill ack ${messageId}`,
      (f) => f.type === 'ack' && f.messageId === messageId,
      from,
    );
    expect(ack.timestamp, where(`fill of ${roomId}`)).toBeTypeOf('number');
  }
  expect(writer.ofType('error'), where(`fill of ${roomId} was refused`)).toEqual([]);
  writer.close();
  await writer.closed();
}

export function logProblems(server: ServerProcess): string[] {
  const problems: string[] = [];
  if (server.stderr !== '') problems.push(`stderr: ${server.stderr.slice(0, 2000)}`);
  for (const line of server.logs()) {
    const level = line.level as number;
    if (level >= 50 || /uncaught|unhandled/i.test(String(line.msg))) {
      problems.push(JSON.stringify(line).slice(0, 1000));
    }
  }
  return problems;
}
