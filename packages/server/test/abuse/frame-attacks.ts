/**
 * The frame-level attacks of issue 11, each bounded in count and time, as
 * functions the abuse suites assert on and `measure-attacks.ts` reports.
 * Each returns what the attacker saw (its error codes and close code) and
 * whether a bystander in another room kept being served.
 */

import {
  bufferBombFrame,
  deepFrame,
  hasExited,
  MiB,
  manyKeysFrame,
  pauseReading,
  sendInOneWrite,
} from '../harness/abuse/abuse-harness.js';
import type { ServerProcess, WireClient } from '../harness/server-process.js';

/** What the attacker saw. */
interface AttackOutcome {
  errorCodes: string[];
  closeCode: number | undefined;
  /** Frames of the attack that were acked (so applied). */
  acked: number;
  /** A client in another room wrote and got its ack after the attack. */
  bystanderServed: boolean;
}

const SETTLE_MS = 15_000;

function errorCodes(client: WireClient): string[] {
  return client.ofType('error').map((f) => String(f.code));
}

/** Waits until `done` holds, the socket closed or the time runs out (the attack may hang a broken server). */
async function settle(client: WireClient, done: () => boolean, timeoutMs = SETTLE_MS): Promise<void> {
  try {
    await client.waitFor(
      'the attack to settle',
      () => (done() || client.closeInfo ? true : undefined),
      timeoutMs,
    );
  } catch {
    // Timed out or closed: the outcome says which.
  }
}

/** A client in its own room writes and waits for the ack: other rooms must keep being served. */
export async function bystanderServed(server: ServerProcess): Promise<boolean> {
  if (hasExited(server)) return false;
  try {
    const bystander = await server.connect(`bystander-${Math.random().toString(36).slice(2)}`, 'bystander');
    await bystander.sync(0);
    await bystander.write([{ 'b/C': { _exists: true, ok: true } }]);
    bystander.close();
    return true;
  } catch {
    return false;
  }
}

async function outcomeOf(server: ServerProcess, client: WireClient): Promise<AttackOutcome> {
  return {
    errorCodes: errorCodes(client),
    closeCode: client.closeInfo?.code,
    acked: client.ofType('ack').length,
    bystanderServed: await bystanderServed(server),
  };
}

/** Sends `frames` buffer bombs of `deltas` × `len` entries each and waits for each answer. */
export async function bufferBomb(
  server: ServerProcess,
  options: { deltas: number; len: number; list: 'documentPatches' | 'ephemeralPatches'; frames?: number },
): Promise<AttackOutcome> {
  const attacker = await server.connect('bomb', 'attacker');
  await attacker.sync(0);
  const raw = bufferBombFrame(options.deltas, options.len, options.list);
  const frames = options.frames ?? 1;
  for (let i = 0; i < frames && !attacker.closeInfo; i++) {
    const answered = attacker.ofType('ack').length + attacker.ofType('error').length;
    attacker.send(raw);
    await settle(attacker, () => attacker.ofType('ack').length + attacker.ofType('error').length > answered);
  }
  return outcomeOf(server, attacker);
}

/** Writes about `docBytes` of document into room `amplify` in 100 KiB keys (the setup of {@link reconnectFlood}). */
export async function seedDocument(server: ServerProcess, docBytes: number): Promise<void> {
  const writer = await server.connect('amplify', 'writer');
  await writer.sync(0);
  const chunk = 100 * 1024;
  for (let i = 0; i * chunk < docBytes; i++) {
    await writer.write([{ [`doc${i}/Blob`]: { _exists: true, s: 'x'.repeat(chunk) } }]);
  }
  writer.close();
}

/**
 * Read-only amplification against the document {@link seedDocument} wrote: a
 * client that does not read sends `reconnects` reconnect-from-0 frames in one TCP write.
 */
export async function reconnectFlood(
  server: ServerProcess,
  options: { reconnects: number; token?: string },
): Promise<AttackOutcome> {
  const attacker = await server.connect(
    'amplify',
    'reader',
    options.token ? { token: options.token } : undefined,
  );
  await attacker.sync(0);
  const socket = pauseReading(attacker);
  const reconnect = JSON.stringify({ type: 'reconnect', lastTimestamp: 0, protocolVersion: 2 });
  sendInOneWrite(
    attacker,
    Array.from({ length: options.reconnects }, () => reconnect),
  );
  // Give the server time to handle the burst (or stall on it), then let the client read again.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const served = await bystanderServed(server);
  socket.resume();
  await settle(attacker, () => attacker.ofType('synced').length >= options.reconnects + 1, 5_000);
  return {
    errorCodes: errorCodes(attacker),
    closeCode: attacker.closeInfo?.code,
    acked: attacker.ofType('synced').length - 1,
    bystanderServed: served,
  };
}

/** One session creates `total` keys in frames of `perFrame`, in document or ephemeral patches. */
export async function keyFlood(
  server: ServerProcess,
  options: { total: number; perFrame: number; list: 'documentPatches' | 'ephemeralPatches'; roomId: string },
): Promise<AttackOutcome & { newcomerFrameBytes: number }> {
  const attacker = await server.connect(options.roomId, 'attacker');
  await attacker.sync(0);
  for (let from = 0; from < options.total && !attacker.closeInfo; from += options.perFrame) {
    const answered = attacker.ofType('ack').length + attacker.ofType('error').length;
    attacker.send(manyKeysFrame(from, options.perFrame, options.list, 'k'));
    await settle(attacker, () => attacker.ofType('ack').length + attacker.ofType('error').length > answered);
  }
  // A newcomer receives the attacker's presence (E2) or the document (D7): how big is that?
  let newcomerFrameBytes = 0;
  if (!hasExited(server)) {
    const newcomer = await server.connect(options.roomId, 'newcomer');
    newcomer.ws.on('message', (data: Buffer) => {
      newcomerFrameBytes = Math.max(newcomerFrameBytes, data.length);
    });
    await newcomer.sync(0).catch(() => undefined);
    newcomer.close();
  }
  return { ...(await outcomeOf(server, attacker)), newcomerFrameBytes };
}

/** Sends `frames` frames of about `bytes` each whose one field is nested as deep as the bytes allow. */
export async function deepNesting(
  server: ServerProcess,
  options: { bytes: number; frames: number },
): Promise<AttackOutcome> {
  const attacker = await server.connect('deep', 'attacker');
  await attacker.sync(0);
  const raw = deepFrame(Math.floor((options.bytes - 100) / 2));
  for (let i = 0; i < options.frames && !attacker.closeInfo; i++) {
    const answered = attacker.ofType('ack').length + attacker.ofType('error').length;
    attacker.send(raw);
    await settle(attacker, () => attacker.ofType('ack').length + attacker.ofType('error').length > answered);
  }
  return outcomeOf(server, attacker);
}

export { MiB };
