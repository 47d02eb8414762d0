/**
 * Runs every frame attack once against the built server and prints its
 * figures as JSON lines: `node --import tsx packages/server/test/abuse/measure-attacks.ts`.
 * Used to record the before/after table of docs/limits.md.
 */

import { type AttackFigures, measure, startAbuseServer } from '../harness/abuse/abuse-harness.js';
import { cleanup } from '../harness/server-process.js';
import { bufferBomb, deepNesting, keyFlood, MiB, reconnectFlood, seedDocument } from './frame-attacks.js';

const attacks: Record<string, (server: Parameters<typeof bufferBomb>[0]) => Promise<unknown>> = {
  'buffer bomb, 2 KB frame (20 deltas x 100,000)': (s) =>
    bufferBomb(s, { deltas: 20, len: 100_000, list: 'documentPatches', frames: 5 }),
  'buffer bomb, ephemeral (20 deltas x 100,000)': (s) =>
    bufferBomb(s, { deltas: 20, len: 100_000, list: 'ephemeralPatches', frames: 5 }),
  'buffer bomb, 125 KB frame (3,000 deltas x 100,000)': (s) =>
    bufferBomb(s, { deltas: 3_000, len: 100_000, list: 'documentPatches' }),
  'reconnect flood (200 x 2.5 MiB, not reading)': (s) => reconnectFlood(s, { reconnects: 200 }),
  'presence flood (150,000 keys, one client)': (s) =>
    keyFlood(s, { total: 150_000, perFrame: 5_000, list: 'ephemeralPatches', roomId: 'presence' }),
  'document key flood (150,000 keys)': (s) =>
    keyFlood(s, { total: 150_000, perFrame: 10_000, list: 'documentPatches', roomId: 'keys' }),
  'deep nesting (5 x 2 MiB frames)': (s) => deepNesting(s, { bytes: 2 * MiB - 1024, frames: 5 }),
};

const only = process.argv[2];
for (const [name, attack] of Object.entries(attacks)) {
  if (only && !name.includes(only)) continue;
  // Default limits: the attacks of issue 11 fit in them.
  const probed = await startAbuseServer();
  if (name.startsWith('reconnect')) await seedDocument(probed.server, 2.5 * MiB);
  const { figures, result, error } = await measure(probed, () => attack(probed.server));
  const line: { name: string; figures: AttackFigures; result: unknown; error?: string } = {
    name,
    figures,
    result,
  };
  if (error) line.error = String(error);
  console.log(JSON.stringify(line));
  await cleanup();
}
process.exit(0);
