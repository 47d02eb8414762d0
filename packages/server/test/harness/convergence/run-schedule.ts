/**
 * Runs one schedule against one server with one kind of client and says
 * whether the room converged: every client idle, caught up with the room's
 * clock and holding exactly the document a fresh reader gets from the server
 * (a reconnect from clock 0, SPEC D7).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ClientEnvironment, DocModel } from '../client-harness.js';
import { readRoom } from '../crash/wire-clients.js';
import type { TargetServer } from '../target-server.js';
import { type ClientKind, createPeer, type Peer } from './peers.js';
import type { Schedule } from './schedule.js';

/** How one run ended. */
export interface RunOutcome {
  converged: boolean;
  /** Why not (busy clients or the first differing keys), empty when converged. */
  detail: string;
}

/** Bounds of the final poll (a poll, never a timing assertion). */
interface SettleOptions {
  /** Give up on clients that never become idle after this long. */
  timeoutMs: number;
}

const POLL_MS = 150;
/** Rounds in a row with idle clients and nothing changing before a difference counts as final. */
const STILL_ROUNDS = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Live fields of a document without the `_exists` marker (a present key is live). */
function normalized(doc: DocModel): DocModel {
  const out: DocModel = {};
  for (const key of Object.keys(doc).sort()) {
    const { _exists, ...fields } = doc[key] as Record<string, unknown>;
    if (_exists === false) continue;
    out[key] = fields;
  }
  return out;
}

function differences(peer: string, doc: DocModel, reference: DocModel): string[] {
  const keys = [...new Set([...Object.keys(doc), ...Object.keys(reference)])].sort();
  return keys
    .filter((key) => !isDeepStrictEqual(doc[key], reference[key]))
    .slice(0, 3)
    .map((key) => `${peer} ${key}: ${JSON.stringify(doc[key])} vs server ${JSON.stringify(reference[key])}`);
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(20);
  }
}

/** Runs the app loop of every peer for `ms` (at least one tick). */
async function runFor(peers: readonly Peer[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  do {
    for (const peer of peers) peer.tick();
    await sleep(Math.min(10, Math.max(0, until - Date.now())));
  } while (Date.now() < until);
  for (const peer of peers) peer.tick();
}

/**
 * Runs `schedule` in room `roomId` on `target` with peers of `clientKind`
 * (client ids prefixed with `roomId`, so runs never share a client id).
 */
export async function runSchedule(
  schedule: Schedule,
  target: TargetServer,
  clientKind: ClientKind,
  roomId: string,
  env: ClientEnvironment,
  settle: SettleOptions,
): Promise<RunOutcome> {
  const peers = Array.from({ length: schedule.peers }, (_, i) =>
    createPeer(clientKind, `${roomId}-p${i}`, roomId, target.url, env),
  );
  try {
    await Promise.all(peers.map((peer) => peer.start()));
    // Users open the document, then edit.
    await waitUntil(
      () => peers.every((peer) => peer.ready()),
      20_000,
      () => `${roomId}: first sync`,
    );
    let value = schedule.seed;
    for (const step of schedule.operations) {
      value++;
      switch (step.op) {
        case 'touch':
          peers[step.peer]?.touch(step.key, step.fields, value);
          break;
        case 'remove':
          peers[step.peer]?.remove(step.key);
          break;
        case 'append':
          peers[step.peer]?.append(step.key, step.values, value);
          break;
        case 'offline':
          peers[step.peer]?.goOffline();
          break;
        case 'online':
          peers[step.peer]?.goOnline();
          break;
        case 'restart':
          await target.killAndRestart();
          break;
      }
      await runFor(peers, step.gapMs);
    }
    return await settleRoom(peers, target, roomId, settle);
  } finally {
    for (const peer of peers) peer.close();
  }
}

/** Polls until the room converged, or its idle clients disagree and stay still, or the timeout. */
export async function settleRoom(
  peers: readonly Peer[],
  target: TargetServer,
  roomId: string,
  settle: SettleOptions,
): Promise<RunOutcome> {
  const deadline = Date.now() + settle.timeoutMs;
  let agreeing = 0;
  let still = 0;
  let previous = '';
  let detail = '';
  for (;;) {
    for (const peer of peers) peer.tick();
    let view: Awaited<ReturnType<typeof readRoom>> | undefined;
    try {
      view = await readRoom(target.port, roomId, 0);
    } catch (error) {
      detail = `reader failed: ${String(error)}`;
    }
    if (view) {
      const server = normalized(Object.fromEntries(view.state));
      const docs = peers.map((peer) => normalized(peer.document()));
      const busy = peers
        .map((peer) => [peer.clientId, peer.busy(view.timestamp)] as const)
        .filter(([, reason]) => reason !== null)
        .map(([id, reason]) => `${id}: ${reason}`);
      const diffs = docs.flatMap((doc, i) => differences(peers[i]?.clientId ?? '', doc, server));
      const fingerprint = JSON.stringify([view.timestamp, server, docs]);
      if (busy.length === 0 && diffs.length === 0) {
        agreeing++;
        still = 0;
        if (agreeing >= 2) return { converged: true, detail: '' };
      } else if (busy.length === 0) {
        agreeing = 0;
        still = fingerprint === previous ? still + 1 : 0;
        detail = diffs.join(' | ');
        // Idle clients receive nothing more: the difference is final.
        if (still >= STILL_ROUNDS) return { converged: false, detail };
      } else {
        agreeing = 0;
        still = 0;
        detail = `not idle: ${busy.join('; ')}${diffs.length > 0 ? `; ${diffs.join(' | ')}` : ''}`;
      }
      previous = fingerprint;
    }
    if (Date.now() > deadline) return { converged: false, detail: `did not settle: ${detail}` };
    await sleep(POLL_MS);
  }
}
