/**
 * Crash tests of the durable storages (SPEC P2, O4, D9): a real server process
 * is SIGKILLed while four writers stream acked writes and deletions into two
 * rooms, three times, each at a different point; after every restart a fresh
 * reader must find every acked write with its value and every acked deletion
 * as a tombstone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type CrashReport,
  type CrashScenario,
  killAllServers,
  runCrashScenario,
} from '../harness/crash/crash-harness.js';
import {
  dropStorageTables,
  HOW_TO_RUN_POSTGRES,
  IN_CI,
  postgresProblem,
  TEST_PG_URL,
} from '../helpers/postgres.js';

const TEST_TIMEOUT_MS = 180_000;
/** Acks per round before the SIGKILL: three rounds, three different points. */
const KILL_POINTS = [300, 450, 220];

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'css-crash-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  killAllServers();
});

afterAll(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the scenario and checks the run really exercised the kills. */
async function crashAndCheck(scenario: CrashScenario): Promise<CrashReport> {
  const report = await runCrashScenario(scenario);
  console.log(
    `[crash] ${scenario.name}: ${report.totalAcks} acks received, ${report.inFlightAtKills} operations ` +
      'in flight at the kills; acked operations verified after ' +
      `each restart: ${report.verifiedPerRestart.join(', ')} ` +
      `(of which deletions: ${report.deletionsPerRestart.join(', ')})`,
  );
  const killPoints = scenario.killAfterAcks;
  expect(report.verifiedPerRestart).toHaveLength(killPoints.length);
  expect(report.totalAcks).toBeGreaterThanOrEqual(killPoints.reduce((a, b) => a + b, 0));
  // Each restart checks every key acked so far: about three quarters of the acks are writes of new keys.
  for (let i = 0; i < killPoints.length; i++) {
    expect(report.deletionsPerRestart[i]).toBeGreaterThan(0);
    expect(report.verifiedPerRestart[i]).toBeGreaterThan(
      killPoints.slice(0, i + 1).reduce((a, b) => a + b, 0) * 0.5,
    );
  }
  return report;
}

describe('[P2][O4][D9] FileStorage crash', () => {
  it(
    '[P2][O4][D9] FileStorage: every acked write and deletion survives SIGKILL',
    async () => {
      await crashAndCheck({ name: 'FileStorage', args: ['file', tempDir()], killAfterAcks: KILL_POINTS });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '[P2][O4][D9] FileStorage folding its journal constantly: every acked write and deletion survives SIGKILL',
    async () => {
      await crashAndCheck({
        name: 'FileStorage (compactAfterBytes 2 KiB)',
        args: ['file-compact', tempDir()],
        killAfterAcks: KILL_POINTS,
      });
    },
    TEST_TIMEOUT_MS,
  );
});

describe('[P2][O4][D9] SqliteStorage crash', () => {
  it(
    '[P2][O4][D9] SqliteStorage: every acked write and deletion survives SIGKILL',
    async () => {
      await crashAndCheck({
        name: 'SqliteStorage',
        args: ['sqlite', path.join(tempDir(), 'rooms.db')],
        killAfterAcks: KILL_POINTS,
      });
    },
    TEST_TIMEOUT_MS,
  );
});

const PG_URL = TEST_PG_URL;
const pgError = await postgresProblem();
const inCi = IN_CI;
if (pgError !== null && !inCi) {
  console.warn(`[crash] skipping the PostgresStorage crash test: ${HOW_TO_RUN_POSTGRES} (${pgError})`);
}

describe.skipIf(pgError !== null && !inCi)('[P2][O4][D9] PostgresStorage crash', () => {
  const tablePrefix = `css_crash_${process.pid}_${Math.random().toString(16).slice(2, 10)}_`;

  afterAll(async () => {
    if (pgError === null) await dropStorageTables(tablePrefix);
  });

  it(
    '[P2][O4][D9] PostgresStorage: every acked write and deletion survives SIGKILL',
    async () => {
      if (pgError !== null)
        throw new Error(`CI is set but PostgreSQL at ${PG_URL} is unreachable: ${pgError}`);
      await crashAndCheck({
        name: 'PostgresStorage',
        args: ['postgres', PG_URL, tablePrefix],
        killAfterAcks: KILL_POINTS,
      });
    },
    TEST_TIMEOUT_MS,
  );
});
