import { afterAll, beforeAll, expect } from 'vitest';
import { ChaosRunner, type ScenarioResult } from '../../tools/chaos/runner.js';
import { scenarioNamed } from '../../tools/chaos/scenarios/index.js';
import { formatDetails, formatTable } from '../../tools/chaos/table.js';

/**
 * `make chaos` at small sizes, for one test file: the same runner and scenarios on an isolated
 * copy of the real stack (scripts/stack.sh with a temporary STACK_DIR and free ports, its own
 * PostgreSQL cluster and Temporal database), so neither a `make up` nor the other files are
 * disturbed. Each scenario resets the stack, injects its faults while payouts are made, waits
 * (bounded) for the report to be consistent and checks its own figures.
 */
export function useChaosStack(): { run: (name: string) => Promise<ScenarioResult> } {
  let runner: ChaosRunner | undefined;
  const results: ScenarioResult[] = [];
  const log: string[] = [];

  beforeAll(async () => {
    runner = await ChaosRunner.start({ scale: 'small', log: (line) => log.push(line) });
  }, 300_000);

  afterAll(async () => {
    const failed = results.some((result) => !result.passed) || results.length === 0;
    if (results.length) console.log(formatTable(results));
    if (failed) console.error(`chaos log:\n${log.slice(-200).join('\n')}`);
    // On a failure the services' logs stay in the STACK_DIR (printed in the log above).
    await runner?.close({ keepDir: failed });
  }, 180_000);

  return {
    async run(name) {
      if (!runner) throw new Error('the chaos stack did not start');
      const result = await runner.run(scenarioNamed(name));
      results.push(result);
      return result;
    },
  };
}

/** Converged, report consistent, nothing duplicated, missing or mismatched, every check passed. */
export function expectClean(result: ScenarioResult, { repeatedUpdatesAllowed = false } = {}) {
  const details = formatDetails([result]);
  expect(result.error, details).toBeUndefined();
  expect(
    result.checks.filter((check) => !check.ok),
    details,
  ).toEqual([]);
  expect(result.converged, details).toBe(true);
  expect(result.report?.consistent, details).toBe(true);
  expect([result.duplicates, result.missing, result.mismatches], details).toEqual([0, 0, 0]);
  if (!repeatedUpdatesAllowed) expect(result.maxUpdateCount, details).toBe(1);
}

export const minutes = (n: number) => n * 60_000;
