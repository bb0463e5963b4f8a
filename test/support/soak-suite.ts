import { afterAll, beforeAll, expect } from 'vitest';
import { ChaosRunner } from '../../tools/chaos/runner.js';
import { runSoak, type SoakResult } from '../../tools/soak/runner.js';
import { buildSchedule, SUITE_ACTION_KINDS } from '../../tools/soak/schedule.js';
import { formatSummary } from '../../tools/soak/summary.js';

/**
 * `make soak` at a small size, for one test file: a fixed seed's minute of faults (the suite's
 * kinds) on an isolated copy of the real stack (tools/stack's driver: its own STACK_DIR,
 * PostgreSQL cluster, Temporal database and free ports). With SOAK_PORT_BASE and SOAK_PG_PORT set (as tools/soak/cli.ts reads
 * them) the ports come from that band instead, `bandOffset` above it so that files running at
 * once keep apart.
 */
export function useSoakStack(bandOffset: number): { soak: (seed: number) => Promise<SoakResult> } {
  let chaos: ChaosRunner | undefined;
  const results: SoakResult[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    const base = Number(process.env.SOAK_PORT_BASE);
    const postgres = Number(process.env.SOAK_PG_PORT);
    const band =
      base > 0 && postgres > 0
        ? { portBand: { base: base + bandOffset, postgres: postgres + bandOffset } }
        : {};
    chaos = await ChaosRunner.start({ scale: 'small', log: (line) => log.push(line), ...band });
  }, 300_000);

  afterAll(async () => {
    const failed = results.length === 0 || results.some((result) => result.error || result.violations.length);
    for (const result of results) console.log(formatSummary(result));
    if (failed) console.error(`soak log:\n${log.slice(-200).join('\n')}`);
    await chaos?.close({ keepDir: failed });
  }, 180_000);

  return {
    async soak(seed) {
      if (!chaos) throw new Error('the soak stack did not start');
      const result = await runSoak({
        chaos,
        // The kinds the test files' names describe (SUITE_ACTION_KINDS says why not every kind).
        schedule: buildSchedule({ seed, minutes: 1, kinds: SUITE_ACTION_KINDS }),
        log: (line) => log.push(`seed ${seed}: ${line}`),
      });
      results.push(result);
      return result;
    },
  };
}

/** No invariant violated, drained, and the run did something: payouts flowed, most faults met the stack. */
export function expectClean(result: SoakResult) {
  const summary = formatSummary(result);
  expect(result.error, summary).toBeUndefined();
  expect(result.violations, summary).toEqual([]);
  expect(result.drain.drained, summary).toBe(true);
  expect(result.production?.created, summary).toBeGreaterThan(100);
  expect(result.payouts?.recorded, summary).toBeGreaterThan(0);
  const done = result.outcomes.filter((outcome) => outcome.result === 'done').length;
  expect(done, summary).toBeGreaterThanOrEqual(result.outcomes.length / 2);
  expect(result.invariantRounds.checked, summary).toBeGreaterThan(5);
}
