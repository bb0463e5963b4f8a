import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRunner } from '../tools/chaos/runner.js';
import { runSoak, type SoakResult } from '../tools/soak/runner.js';
import { buildSchedule } from '../tools/soak/schedule.js';
import { formatSummary } from '../tools/soak/summary.js';

// `make soak` at a small size: two fixed seeds, a minute of faults each, on one isolated copy of
// the real stack (tools/chaos's driver: its own STACK_DIR, PostgreSQL cluster, Temporal database
// and free ports). The two seeds were chosen for the faults their first minute holds between
// them: a second worker, a stray sync, API kill and stall, worker stalls short and past the
// heartbeat timeout, a worker kill, Temporal and PostgreSQL restarts, a terminate, an outage,
// list failures, fail-after-commit, latency and malformed payouts.

let chaos: ChaosRunner | undefined;
const results: SoakResult[] = [];
const log: string[] = [];

/** Ports from fixed bases when SOAK_PORT_BASE and SOAK_PG_PORT are set (as tools/soak/cli.ts reads them). */
function ports() {
  const base = Number(process.env.SOAK_PORT_BASE);
  const postgres = Number(process.env.SOAK_PG_PORT);
  return base > 0 && postgres > 0 ? { portBand: { base, postgres } } : {};
}

beforeAll(async () => {
  chaos = await ChaosRunner.start({ scale: 'small', log: (line) => log.push(line), ...ports() });
}, 300_000);

afterAll(async () => {
  const failed = results.length === 0 || results.some((result) => result.error || result.violations.length);
  for (const result of results) console.log(formatSummary(result));
  if (failed) console.error(`soak log:\n${log.slice(-200).join('\n')}`);
  await chaos?.close({ keepDir: failed });
}, 180_000);

async function soak(seed: number): Promise<SoakResult> {
  if (!chaos) throw new Error('the soak stack did not start');
  const result = await runSoak({
    chaos,
    schedule: buildSchedule({ seed, minutes: 1 }),
    log: (line) => log.push(`seed ${seed}: ${line}`),
  });
  results.push(result);
  return result;
}

function expectClean(result: SoakResult) {
  const summary = formatSummary(result);
  expect(result.error, summary).toBeUndefined();
  expect(result.violations, summary).toEqual([]);
  expect(result.drain.drained, summary).toBe(true);
  // The run did something: payouts flowed, and most scheduled faults met the stack.
  expect(result.production?.created, summary).toBeGreaterThan(100);
  expect(result.payouts?.recorded, summary).toBeGreaterThan(0);
  const done = result.outcomes.filter((outcome) => outcome.result === 'done').length;
  expect(done, summary).toBeGreaterThanOrEqual(result.outcomes.length / 2);
  expect(result.invariantRounds.checked, summary).toBeGreaterThan(5);
}

const minutes = (n: number) => n * 60_000;

describe('soak (two fixed seeds, one minute each)', () => {
  it(
    'seed 81: second worker, stray sync, API kill, worker stall and kill, Temporal restart, terminate',
    async () => {
      const result = await soak(81);
      expectClean(result);
    },
    minutes(9),
  );

  it(
    'seed 179: PostgreSQL restart, outage, API stall, worker stall past the heartbeat timeout, fail-after-commit, malformed',
    async () => {
      const result = await soak(179);
      expectClean(result);
    },
    minutes(9),
  );
});
