/** The extra `--cpu-prof` runs of our server, and which scenarios get one. */
import { chmod, copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeProfile } from './profile.js';
import type { Aggregate, ProfileResult, TargetResult } from './results.js';
import { log, makeTempDir, measure, removeTempDir } from './run.js';
import { PROFILE, RESULTS_DIR, SCENARIOS, type Scenario } from './scenarios.js';
import { findAggregate } from './target.js';

/** Runs our server once more under `--cpu-prof` in `scenario` and summarises the window. */
export async function profileOurs(scenario: Scenario, reason: string): Promise<ProfileResult | null> {
  const profDir = await makeTempDir('canvas-bench-server-prof-');
  try {
    log(`profiling our server (${scenario.label}) with --cpu-prof: ${reason}`);
    const { window, result } = await measure('ours', scenario, 0, profDir);
    const first = (await readdir(profDir)).find((name) => name.endsWith('.cpuprofile'));
    if (!first) {
      log('no .cpuprofile was written');
      return null;
    }
    const summary = summarizeProfile(join(profDir, first), { window });
    const file = `server-ours-${scenario.id}.cpuprofile`;
    await copyFile(join(profDir, first), join(RESULTS_DIR, file));
    // node writes profiles owner-only; this one is a result like the others.
    await chmod(join(RESULTS_DIR, file), 0o644);
    return { ...summary, scenario: scenario.id, file, run: result, reason };
  } finally {
    await removeTempDir(profDir);
  }
}

/** The scenarios to profile, with the reason (see `PROFILE` in scenarios.ts). */
export function scenariosToProfile(aggregates: Aggregate[], target: TargetResult): Array<[Scenario, string]> {
  if (PROFILE === '0') return [];
  return SCENARIOS.flatMap((scenario): Array<[Scenario, string]> => {
    if (PROFILE === '1') return [[scenario, 'BENCH_SERVER_PROFILE=1']];
    const ours = findAggregate(aggregates, scenario.id, 'ours');
    const published = findAggregate(aggregates, scenario.id, 'published');
    if (scenario.id === target.scenario && !target.pass) return [[scenario, 'the target was missed']];
    if (ours.deliveriesPerSec < published.deliveriesPerSec) {
      return [[scenario, 'ours delivers less than the published server here']];
    }
    return [];
  });
}
