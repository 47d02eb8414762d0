/**
 * Un-steered convergence (issue 10, SPEC D5, D7, O2). Seeded schedules of
 * peers editing one room (racing last-writer-wins writes, offline periods
 * with offline edits, deletions and re-creates, arrays several peers extend
 * at once, SIGKILLs of the server process restarted on the same port and
 * data) run, in the same run and with nothing steered around client
 * behaviour, in three setups:
 * - published `WebsocketAdapter` peers against the published server 2.0.2;
 * - the same published peers against our server;
 * - our own client against our server.
 *
 * It asserts that every schedule that converges against the published server
 * converges against ours (the published adapter's races make a few schedules
 * depend on timing: where only the published server converged, both run the
 * schedule again, up to three times, and it counts as a failure only if ours
 * never converges while the published server always does), and that our client converges wherever the
 * published client converges on neither server (docs/compatibility-cases.md
 * lists those schedules). Counts per category are printed and recorded.
 *
 * `npm test` runs a few seeds per category; `CANVAS_TEST_LONG=1` many more.
 * `CONVERGENCE_SEED` moves the first seed, `CONVERGENCE_SEEDS` sets the seeds per category.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientEnvironment, installClientEnvironment } from '../harness/client-harness.js';
import type { ClientKind } from '../harness/convergence/peers.js';
import { type RunOutcome, runSchedule } from '../harness/convergence/run-schedule.js';
import {
  CATEGORIES,
  describeSchedule,
  generateSchedule,
  type Schedule,
} from '../harness/convergence/schedule.js';
import { LONG, recordFigures, scaled } from '../harness/reliability-harness.js';
import { cleanup } from '../harness/server-process.js';
import { type ServerKind, TargetServer } from '../harness/target-server.js';

const FIRST_SEED = Number(process.env.CONVERGENCE_SEED ?? 1);
const SEEDS_PER_CATEGORY = Number(process.env.CONVERGENCE_SEEDS ?? scaled(3, 40));
const PEERS = scaled(3, 4);
const EDITS = scaled(24, 40);
const SETTLE = { timeoutMs: 20_000 };
/** Extra runs of both published setups for a schedule that converged on the published server only. */
const RETRIES = 3;

/** The three setups each schedule runs in. */
const SETUPS = [
  { name: 'published-on-published', client: 'published', server: 'published' },
  { name: 'published-on-ours', client: 'published', server: 'ours' },
  { name: 'ours-on-ours', client: 'ours', server: 'ours' },
] as const satisfies ReadonlyArray<{ name: string; client: ClientKind; server: ServerKind }>;
type SetupName = (typeof SETUPS)[number]['name'];

let env: ClientEnvironment | undefined;
const targets = new Map<SetupName, TargetServer>();

beforeAll(async () => {
  env = installClientEnvironment();
  for (const setup of SETUPS) targets.set(setup.name, await TargetServer.start(setup.server));
}, 60_000);

afterAll(async () => {
  env?.restore();
  for (const target of targets.values()) await target.kill();
  await cleanup();
});

/** Results of one schedule in every setup. */
interface ScheduleResult {
  schedule: Schedule;
  outcomes: Record<SetupName, RunOutcome>;
  /** Runs of both published setups repeated after only the published server converged. */
  retries: number;
  /** The published client failed on the published server too in a repeated run. */
  timingDependent?: boolean;
}

/** Runs `schedule` in `setup` (a room of its own per attempt). */
function runIn(setup: SetupName, schedule: Schedule, attempt: number): Promise<RunOutcome> {
  const { client } = SETUPS.find((candidate) => candidate.name === setup) as (typeof SETUPS)[number];
  const room = `${setup}-${schedule.category.replace(/[^a-z]+/g, '-')}-${schedule.seed}-${attempt}`;
  return runSchedule(
    schedule,
    targets.get(setup) as TargetServer,
    client,
    room,
    env as ClientEnvironment,
    SETTLE,
  );
}

describe('un-steered convergence', () => {
  it(
    '[D5] [D7] [O2] every schedule that converges against the published server converges against ours',
    async () => {
      const results: ScheduleResult[] = [];
      for (const category of CATEGORIES) {
        for (let i = 0; i < SEEDS_PER_CATEGORY; i++) {
          const seed = FIRST_SEED + i;
          const schedule = generateSchedule(category, seed, { peers: PEERS, edits: EDITS });
          // The setups run side by side: separate servers, rooms and client ids.
          const outcomes = await Promise.all(SETUPS.map((setup) => runIn(setup.name, schedule, 0)));
          const result: ScheduleResult = {
            schedule,
            outcomes: Object.fromEntries(SETUPS.map((setup, s) => [setup.name, outcomes[s]])) as Record<
              SetupName,
              RunOutcome
            >,
            retries: 0,
          };
          // The published adapter's own races make some schedules converge or not by timing
          // (docs/compatibility-cases.md). When only the published server converged, both run
          // again: the schedule counts against ours only if it never converges on ours while it
          // converges on the published server every time.
          while (
            result.outcomes['published-on-published'].converged &&
            !result.outcomes['published-on-ours'].converged &&
            result.retries < RETRIES
          ) {
            result.retries++;
            const [published, ours] = await Promise.all([
              runIn('published-on-published', schedule, result.retries),
              runIn('published-on-ours', schedule, result.retries),
            ]);
            if (!published.converged) result.timingDependent = true;
            result.outcomes['published-on-ours'] = ours;
          }
          results.push(result);
        }
      }

      const counts: Record<string, Record<SetupName, string>> = {};
      for (const category of CATEGORIES) {
        const ofCategory = results.filter((result) => result.schedule.category === category);
        counts[category] = Object.fromEntries(
          SETUPS.map((setup) => [
            setup.name,
            `${ofCategory.filter((result) => result.outcomes[setup.name].converged).length}/${ofCategory.length}`,
          ]),
        ) as Record<SetupName, string>;
      }
      console.log(`[convergence] ${JSON.stringify(counts, null, 1)}`);
      for (const result of results) {
        for (const setup of SETUPS) {
          const outcome = result.outcomes[setup.name];
          if (!outcome.converged) {
            console.log(
              `[convergence] ${setup.name} ${result.schedule.category} seed ${result.schedule.seed}: ${outcome.detail}`,
            );
          }
        }
      }
      recordFigures('convergence', {
        mode: LONG ? 'long' : 'short',
        firstSeed: FIRST_SEED,
        seedsPerCategory: SEEDS_PER_CATEGORY,
        peers: PEERS,
        edits: EDITS,
        converged: counts,
        retriesOfPublishedOnOurs: results.reduce((sum, result) => sum + result.retries, 0),
        schedulesConvergedOnOursAfterRetry: results.filter(
          (result) => result.retries > 0 && result.outcomes['published-on-ours'].converged,
        ).length,
        timingDependentSchedules: results
          .filter((result) => result.timingDependent)
          .map((result) => `${result.schedule.category} seed ${result.schedule.seed}`),
      });

      // Wherever the published client converges with the published server, it converges with ours.
      const regressions = results
        .filter(
          (r) =>
            r.outcomes['published-on-published'].converged &&
            !r.outcomes['published-on-ours'].converged &&
            r.timingDependent !== true,
        )
        .map((r) => `${describeSchedule(r.schedule)}\n-> ${r.outcomes['published-on-ours'].detail}`);
      expect(regressions, 'schedules converging on the published server only').toEqual([]);

      // Where the published client converges on neither server, our client converges (compatibility cases).
      const neither = results.filter(
        (r) => !r.outcomes['published-on-published'].converged && !r.outcomes['published-on-ours'].converged,
      );
      const oursFailing = neither
        .filter((r) => !r.outcomes['ours-on-ours'].converged)
        .map((r) => `${describeSchedule(r.schedule)}\n-> ${r.outcomes['ours-on-ours'].detail}`);
      expect(oursFailing, 'schedules where no client converges').toEqual([]);
    },
    scaled(300_000, 3_600_000),
  );
});
